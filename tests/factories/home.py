from .pages import make_home

HOME_INTRO = (
    "<p>联动学堂是“三社联动”线上培训平台：社区、社会组织和社会工作者在这里共同学习、协同行动。</p>"
    "<p>在这里可以自学《三社联动线上抗疫工作手册》，参加实务课程并取得志愿者培训证书，"
    "也可以在手机上参加直播课和专家连线，提问、点赞、参与投票。</p>"
)


def load_demo(*, users, log):
    home = make_home()
    if home.intro != HOME_INTRO:
        home.tagline = "社区 · 社会组织 · 社会工作者，联动学习，共同应对"
        home.intro = HOME_INTRO
        home.save_revision().publish()
        log("home page updated")
