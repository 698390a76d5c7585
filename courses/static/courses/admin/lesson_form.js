/* The lesson form in the Wagtail admin: show only the section of the chosen kind (reading, video, quiz, live).
   Sections are marked "lesson-kind lesson-kind-<kind>" in courses.models.LessonPage.content_panels. Without this
   script every section stays visible, as before. */
(function () {
  "use strict";

  function setUp() {
    var select = document.getElementById("id_kind");
    if (!select || select.dataset.lessonKindReady) return;
    select.dataset.lessonKindReady = "1";

    function sections() {
      return document.querySelectorAll(".w-panel.lesson-kind, .lesson-kind");
    }

    function show() {
      var kind = select.value;
      sections().forEach(function (section) {
        var panel = section.closest(".w-panel") || section;
        var mine = section.classList.contains("lesson-kind-" + kind);
        panel.hidden = !mine;
      });
    }

    select.addEventListener("change", show);
    show();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
