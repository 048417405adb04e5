"""On-screen text: promotions in varied phrasing (text.ad / text.qr_code, fail), legitimate lines that
look like ads (shopping word problems, prices, π, years, page numbers, long numbers: clean), citations
of official sources (text.citation, info) and of other sites (text.ad); burned-in subtitles, animated
slides with transitions, dark templates, a school footer and a teacher camera around them."""
from __future__ import annotations

import random

from bench.accuracy.model import Background, Case, Expect, Lesson, Panel, Picture, Shot, Text
from bench.accuracy.narration import spoken
from bench.accuracy.templates import BAR, DARK, LIGHT, SCHOOL, SERIF, STYLES, W, Fields, card_plain, slide

FAMILY = "text"
CARD_S = 5.0
SLIDE_S = 4.0

# (heading, line with the promotion, extra codes beyond text.ad)
PROMOTIONS = [
    ("课后拓展", "更多练习请访问 www.shuxue100.com", ()),
    ("课程回放", "回放地址：https://t.cn/A6xYz9Qk", ()),
    ("资料下载", "讲义下载 pan.baidu.com/s/1aBcDeF", ()),
    ("名师辅导", "官网 jiaoyu-vip.cn 免费试听", ()),
    ("报名咨询", "咨询热线 400-820-6688", ()),
    ("招生信息", "报名电话：0571-88776655", ()),
    ("联系我们", "手机 139 0571 2288", ()),
    ("联系方式", "联系方式：13912345678（王老师）", ()),
    ("客服", "客服电话 800 123 4567", ()),
    ("领取资料", "加微信 mathteacher_li 领取全套讲义", ()),
    ("学习交流", "微信号：shuxue2024", ()),
    ("答疑", "有问题请加 VX: jiaoyu_666", ()),
    ("家长群", "家长交流QQ群：556677889", ()),
    ("答疑群", "扣扣 987654321 随时答疑", ()),
    ("更多课程", "关注公众号「学霸数学」获取更多课程", ()),
    ("每日一练", "微信公众号：小学数学同步课堂", ()),
    ("订阅", "搜索订阅号 每日一练 欢迎订阅", ()),
    ("练习册", "淘宝店铺：状元文具旗舰店", ()),
    ("配套教辅", "京东搜索 优学教辅 立即购买", ()),
    ("同步练习", "点击购买同步练习册 限时优惠", ()),
    ("直播课", "抖音号：math_wang 直播间见", ()),
    ("短视频", "快手搜索 数学王老师 点赞关注", ()),
    ("视频合集", "B站搜索 小王数学 一键三连", ()),
    ("试卷", "扫码领取全套期末试卷", ("text.qr_code",)),
    ("关注我们", "扫一扫 关注我们", ("text.qr_code",)),
    ("免费资料", "添加助教老师 免费领取资料", ()),
    ("课程咨询", "课程咨询请拨打 021-64370000", ()),
    ("优惠", "优惠券：报名立减200元 团购价 99 元", ()),
    ("邮件", "作业发送至 homework@mathclub.cn", ()),
    ("小红书", "小红书号：xhs_mathmom 每天更新", ()),
    ("网课", "在线网课 www.youke-math.net 首课免费", ()),
    ("读书会", "视频号：晨读时光 每晚八点直播", ()),
]

LOOKALIKES = [
    "小明用50元购买了3本笔记本，每本12元，还剩多少元？",
    "一件衣服原价200元，打八折后是多少元？",
    "商店搞优惠活动：买三送一，买8个只要付几个的钱？",
    "π ≈ 3.1415926535897932384626",
    "圆周率 π = 3.14159265358979……",
    "1949年10月1日 中华人民共和国成立",
    "2025年是农历乙巳年",
    "完成练习册第 12 页 练习三 第 5 题",
    "见课本 P.36 例2",
    "长江全长约 6300 千米",
    "地球到太阳的平均距离约 149600000 千米",
    "12345679 × 9 = 111111111",
    "计算：1384 × 25 = 34600",
    "800米跑步成绩：3分25秒",
    "0.125 = 1/8 = 12.5%",
    "一台电脑 4999 元，分 12 期付款，每期多少元？",
    "苹果每千克 8.5 元，买 3 千克要多少元？",
    "超市打折：满100元减30元，买了128元的东西要付多少？",
    "2024年我国粮食总产量约 14130 亿斤",
    "某市人口约 12000000 人，改写成以万为单位的数",
    "电话号码是由数字组成的，想一想有什么规律？",
    "用 4、0、0、8 组成最大的四位数",
    "商品条形码下面的数字有什么作用？",
    "买2支钢笔共用去36元，每支钢笔多少元？",
    "书店举行促销，每本书便宜3元，用60元可以多买几本？",
    "公元前221年 秦统一六国",
    "第三单元 第 2 课时 共 4 课时",
    "1 千米 = 1000 米  1 米 = 100 厘米",
    "√2 ≈ 1.41421356",
    "光速约为 300000 千米/秒",
    "教材第 45 页 做一做 第 1、2 题",
    "爸爸的手机号是11位数，最高位是1",
]

CITATIONS = [  # (lines, expected code, severity)
    (["资料来源：国家中小学智慧教育平台 basic.smartedu.cn", "人民教育出版社《数学》三年级上册"], "text.citation", "info"),
    (["图片来源：国家中小学智慧教育平台（https://basic.smartedu.cn）"], "text.citation", "info"),
    (["数据来源：国家统计局 www.stats.gov.cn"], "text.citation", "info"),
    (["参考资料：中华人民共和国教育部 www.moe.gov.cn"], "text.citation", "info"),
    (["资料来源：人民教育出版社 www.pep.com.cn"], "text.citation", "info"),
    (["视频素材来源：国家中小学智慧教育平台", "https://basic.smartedu.cn/syncClassroom"], "text.citation", "info"),
    (["资料来源：www.xuexi-ziyuan.com"], "text.ad", "fail"),
    (["图片来源：https://pic.shuxue8.cn/2024/a.jpg"], "text.ad", "fail"),
]

SUBTITLES = ["同学们，我们先来看一道题。", "把一个蛋糕平均分成四份，", "每一份是它的四分之一。", "请你动手折一折，",
             "说一说你是怎么想的。", "我们一起来验证一下。"]

PEOPLE = [Fields("人教版", "数学", "三年级上册", "分数的初步认识", "王丽"),
          Fields("北师大版", "数学", "五年级上册", "小数除法", "李明"),
          Fields("苏教版", "数学", "四年级下册", "运算律", "张华"),
          Fields("人教版", "语文", "六年级上册", "桥", "赵云"),
          Fields("青岛版", "数学", "二年级上册", "表内乘法", "钱芳")]


def _promo_shot(rng: random.Random, k: int, item: tuple[str, str, tuple[str, ...]], page: int) -> Shot:
    head, line, extra = item
    style = STYLES[k % len(STYLES)]
    qr = (f"https://promo.example-edu.cn/{k}", 1420, 300, 320) if "text.qr_code" in extra else None
    body = ["本节课的内容就到这里。", line] if k % 2 else [line, "同学们再见！"]
    return slide(style, head, body, SLIDE_S, page, enter=rng.choice(["cut", "cut", "push", "fade"]), qr=qr)


def _clean_shot(rng: random.Random, k: int, lines: list[str], page: int) -> Shot:
    style = STYLES[(k + 3) % len(STYLES)]
    return slide(style, rng.choice(["例题", "练一练", "想一想", "知识链接", "课堂练习"]), lines, SLIDE_S, page,
                 enter=rng.choice(["cut", "push", "fade"]))


def _lesson(rng: random.Random, fields: Fields, body: list[Shot]) -> Lesson:
    shots = [card_plain(fields, CARD_S), *body]
    return Lesson(tuple(shots), tuple(spoken(shots, rng)), -62.0)


def _timed(shots: list[Shot], codes_at: list[list[Expect]]) -> tuple[Expect, ...]:
    """Expectations placed at each shot's time range (shots after the card)."""
    out: list[Expect] = []
    t = CARD_S
    for shot, expects in zip(shots, codes_at):
        out += [Expect(e.code, t, t + shot.seconds, e.severity, e.what) for e in expects]
        t += shot.seconds
    return tuple(out)


def promotion_cases(rng: random.Random) -> list[Case]:
    """Eight lessons, four promotions each, a clean slide between them."""
    made = []
    for n in range(8):
        shots, expects = [], []
        for j, k in enumerate(range(4 * n, min(4 * n + 4, len(PROMOTIONS)))):
            item = PROMOTIONS[k]
            shots.append(_clean_shot(rng, k, LOOKALIKES[(k * 7) % len(LOOKALIKES)].split("，")[:1], 2 * j + 1))
            expects.append([])
            shots.append(_promo_shot(rng, k, item, 2 * j + 2))
            expects.append([Expect("text.ad", severity="fail", what=item[1])]
                           + [Expect(c, severity="fail", what=item[1]) for c in item[2]])
        made.append(Case(f"promo-{n}", FAMILY, _lesson(rng, PEOPLE[n % len(PEOPLE)], shots), _timed(shots, expects)))
    return made


def lookalike_cases(rng: random.Random) -> list[Case]:
    """Six clean lessons: look-alike lines two per slide, with subtitles, a camera inset or a school footer."""
    made = []
    for n in range(6):
        lines = LOOKALIKES[n::6]
        shots = [_clean_shot(rng, n + j, lines[j:j + 2], j + 1) for j in range(0, len(lines), 2)]
        if n % 3 == 0:
            shots = [_with_subtitles(s, rng) for s in shots]
        if n % 3 == 1:
            shots = [Shot(s.seconds, s.background, s.picture, s.enter, inset=True) for s in shots]
        if n % 3 == 2:
            shots = [slide(SCHOOL, "练一练", lines[j:j + 2], SLIDE_S, j + 1) for j in range(0, len(lines), 2)]
        made.append(Case(f"lookalike-{n}", FAMILY, _lesson(rng, PEOPLE[n % len(PEOPLE)], shots)))
    return made


def _with_subtitles(shot: Shot, rng: random.Random) -> Shot:
    a, b = rng.sample(SUBTITLES, 2)
    return Shot(shot.seconds, shot.background, shot.picture, shot.enter, subtitles=((0.0, 2.0, a), (2.0, 4.0, b)))


def citation_cases(rng: random.Random) -> list[Case]:
    """Four lessons, two citation slides each, between ordinary slides."""
    made = []
    for n in range(4):
        shots, expects = [], []
        for j, (lines, code, severity) in enumerate(CITATIONS[2 * n:2 * n + 2]):
            shots.append(_clean_shot(rng, n + j, [LOOKALIKES[n + 10 * j]], 2 * j + 1))
            expects.append([])
            shots.append(slide([LIGHT, SERIF, DARK, BAR][(n + j) % 4], "资料来源", lines, SLIDE_S, 2 * j + 2, size=46))
            expects.append([Expect(code, severity=severity, what=lines[0])])
        made.append(Case(f"citation-{n}", FAMILY, _lesson(rng, PEOPLE[n], shots), _timed(shots, expects)))
    return made


def camera_cases(rng: random.Random) -> list[Case]:
    """Teacher-camera lessons: the teacher filmed full frame with lower-third captions, then slides."""
    made = []
    for n in range(2):
        caption = Picture((Text(SUBTITLES[n], (120, 880), 52, "sans-bold", "#ffffff"),),)
        cam = Shot(6.0, Background("camera", seed=40 + n), caption)
        promo = PROMOTIONS[5 + 9 * n]
        ad = Shot(5.0, Background("camera", seed=40 + n),
                  Picture((Text(promo[1], (120, 880), 50, "sans-bold", "#ffffff"),),
                          (Panel((80, 850, 1840, 960), "#000000a0", 12),)))
        shots = [cam, _clean_shot(rng, n, LOOKALIKES[20 + n:22 + n], 1), ad]
        expects = [[], [], [Expect("text.ad", severity="fail", what=promo[1])]]
        made.append(Case(f"camera-{n}", FAMILY, _lesson(rng, PEOPLE[n + 2], shots), _timed(shots, expects)))
    return made


REPEATED = [("第三单元 分数的初步认识", "认真听讲 积极思考", "阳光小学 数学组"),
            ("Unit 2 My Family", "Listen and repeat", "实验中学 英语组")]
BODIES = [["你好，同学们", "今天我们一起学习"], ["第一部分：复习旧知", "说一说你学过什么"], ["例1 读一读", "你好 你好 你好"],
          ["第二部分：新课", "想一想，说一说"], ["练一练", "同桌互相说一说"], ["课堂小结", "你学会了什么？"]]


def repeated_cases() -> list[Case]:
    """Two clean lessons whose slides of one template repeat lines: a unit header, a slogan, a school footer
    and the same slide title over several slides. None of it is a watermark."""
    made = []
    for n, (header, slogan, footer) in enumerate(REPEATED):
        shots = []
        for j, body in enumerate(BODIES):
            texts = [Text(header, (60, 40), 34, "sans", "#546e7a"), Text("课堂练习" if j % 3 else "新课学习", (W // 2, 130), 72,
                                                                              "sans-bold", "#1a3e72", "ma"),
                     *(Text(line, (180, 330 + 110 * i), 56) for i, line in enumerate(body)),
                     Text(slogan, (1460, 990), 32, "sans", "#8a8a8a"), Text(footer, (60, 990), 32, "sans", "#8a8a8a")]
            shots.append(Shot(6.0, Background("solid", "#fbfaf4" if n == 0 else "#f1f8e9"), Picture(tuple(texts))))
        made.append(Case(f"repeated-template-{n}", FAMILY, _lesson(random.Random(40 + n), PEOPLE[n], shots)))
    return made



def cases() -> list[Case]:
    rng = random.Random(7)
    return promotion_cases(rng) + lookalike_cases(rng) + citation_cases(rng) + camera_cases(rng) + repeated_cases()
