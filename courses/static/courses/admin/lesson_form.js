/* The page editor in the Wagtail admin (inserted by courses/wagtail_hooks.py for every page type).
   The lesson form: show only the section of the chosen kind (reading, video, quiz, live).
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

  /* Accessibility gaps of the page editor (axe-core, serious): Draftail's text area has no accessible name and the
     minimap's list scrolls without being reachable by keyboard. The editor is named by its panel's heading and the
     list made focusable; both are rendered after load, hence the observer. */
  function fixEditorAccessibility() {
    document.querySelectorAll(".public-DraftEditor-content").forEach(function (editor) {
      if (!editor.hasAttribute("aria-label") && !editor.hasAttribute("aria-labelledby")) {
        var panel = editor.closest(".w-panel");
        var heading = panel && panel.querySelector(".w-panel__heading[id]");
        if (heading) editor.setAttribute("aria-labelledby", heading.id);
      }
      // Focusable already (contenteditable); said explicitly so its scrolling wrapper counts as keyboard-reachable.
      if (!editor.hasAttribute("tabindex")) editor.setAttribute("tabindex", "0");
    });
    document.querySelectorAll(".w-minimap__list:not([tabindex])").forEach(function (list) {
      list.setAttribute("tabindex", "0");
    });
  }

  function start() {
    setUp();
    fixEditorAccessibility();
    new MutationObserver(fixEditorAccessibility).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
