"""Title cards (片头) of many templates: complete ones must pass, incomplete or missing ones raise
`intro.title_card` over the opening window."""
from __future__ import annotations

import random

from bench.accuracy.model import Case, Expect, Lesson
from bench.accuracy.narration import spoken
from bench.accuracy.templates import CARDS, DARK, LIGHT, NEW_CARDS, SCHOOL, SERIF, STYLES, Fields, slide

FAMILY = "titlecard"
WINDOW = (0.0, 8.0)

PEOPLE = [
    Fields("人教版", "数学", "三年级上册", "分数的初步认识", "王丽"),
    Fields("北师大版", "语文", "五年级下册", "草船借箭", "陈晓东"),
    Fields("苏教版", "科学", "四年级上册", "声音的传播", "刘洋"),
    Fields("部编版", "道德与法治", "六年级上册", "宪法是根本法", "赵敏"),
    Fields("人教A版", "数学", "高一 必修第一册", "函数的概念及其表示", "孙建国"),
    Fields("人教版", "培智 生活语文", "二年级", "认识水果", "周芳", subject_label="特殊教育类别"),
    Fields("沪教版", "物理", "八年级下册", "浮力", "吴刚", teacher_label="授课教师"),
    Fields("湘教版", "地理", "七年级上册", "地球的运动", "郑华"),
    Fields("人美版", "美术", "二年级下册", "色彩的魅力", "何静", teacher_label="执教"),
    Fields("冀教版", "英语", "四年级上册", "我的教室", "马晓燕"),
    Fields("粤教版", "信息科技", "五年级上册", "认识编程积木", "林志强", teacher_label="主讲人"),
    Fields("统编版", "历史", "八年级上册", "鸦片战争", "黄海波"),
]

CONTENT = [
    ("学习目标", ["1. 认识本课的主要内容", "2. 能用自己的话说一说", "3. 完成课堂练习"]),
    ("新课导入", ["观察下面的图片，你发现了什么？", "说一说你的想法。"]),
    ("课堂练习", ["想一想，填一填。", "同桌之间互相检查。"]),
    ("课堂小结", ["今天我们学习了什么？", "你还有什么问题？"]),
]


def lesson(card: list, style_offset: int = 0) -> Lesson:
    """The card (if any), then three content slides of rotating styles."""
    shots = list(card)
    for i, (head, body) in enumerate(CONTENT[:3]):
        shots.append(slide(STYLES[(i + style_offset) % len(STYLES)], head, body, 4.0, page=i + 1))
    return Lesson(tuple(shots), tuple(spoken(shots, random.Random(len(shots) * 10 + style_offset))), -62.0)


def _missing(f: Fields, *fields: str) -> Fields:
    blank = {"edition": "", "subject": "", "grade": "", "title": "", "teacher": ""}
    return Fields(**{**f.__dict__, **{k: blank[k] for k in fields}})


def cases() -> list[Case]:
    made = [Case(f"card-{name}", FAMILY, lesson([draw(PEOPLE[i])], i))
            for i, (name, draw) in enumerate(CARDS.items())]
    made += [Case(f"card-{name}-b", FAMILY, lesson([CARDS[name](PEOPLE[9 + i])], i + 3))
             for i, name in enumerate(["values-only", "two-columns", "panel-stripes"])]
    defects = [
        ("no-teacher", "panel-stripes", _missing(PEOPLE[1], "teacher"), "主讲教师 left off"),
        ("no-edition-grade", "dark-halfwidth", _missing(PEOPLE[2], "edition", "grade"), "教材版本, 年级 left off"),
        ("only-title", "photo-fade", _missing(PEOPLE[3], "edition", "subject", "grade", "teacher"), "only the name"),
        ("no-subject", "two-columns", _missing(PEOPLE[7], "subject"), "学科 left off"),
        ("no-teacher-grade", "secondary-push", _missing(PEOPLE[4], "teacher", "grade"), "主讲教师, 年级 left off"),
    ]
    made += [Case(f"card-defect-{name}", FAMILY, lesson([CARDS[template](fields)], 2),
                  (Expect("intro.title_card", *WINDOW, "review", what),)) for name, template, fields, what in defects]
    made += _new_layouts()
    plain = [slide(LIGHT, "第一课时 认识图形", ["长方形、正方形和圆", "找一找身边的图形"], 5.0),
             slide(SERIF, "动手操作", ["用小棒摆一摆", "说一说你摆的图形"], 5.0),
             slide(DARK, "课堂练习", ["数一数有几个三角形"], 5.0)]
    no_card = Lesson(tuple(plain), tuple(spoken(plain, random.Random(5))), -62.0)
    made.append(Case("card-defect-none", FAMILY, no_card, (Expect("intro.title_card", *WINDOW, "review", "no card"),)))
    school = lesson([slide(SCHOOL, "数学 三年级上册", ["分数的初步认识"], 6.0, page=1)], 1)
    made.append(Case("card-defect-school-slide", FAMILY, school,
                     (Expect("intro.title_card", *WINDOW, "review", "a first slide, not a card"),)))
    return made


NEW_PEOPLE = [
    Fields("人教版", "数学", "二年级下册", "表内除法", "钱芳"),
    Fields("北师大版", "科学", "五年级上册", "光的传播", "高明"),
    Fields("部编版", "语文", "四年级下册", "猫", "许静", teacher_label="授课教师"),
    Fields("苏教版", "英语", "六年级上册", "Unit 2 What a day", "杨帆"),
    Fields("人音版", "音乐", "三年级上册", "快乐的do re mi", "邓丽"),
    Fields("鲁教版", "化学", "九年级上册", "水的组成", "韩冰", teacher_label="主讲人"),
    Fields("外研版", "英语", "七年级下册", "My hometown", "程雪"),
]


def _new_layouts() -> list[Case]:
    """Seven more layouts (tables, columns, labels above values, vertical names, fades, camera bands):
    complete cards pass; each with one field left off raises exactly that."""
    left_off = ["teacher", "grade", "subject", "edition", "title", "grade", "teacher"]
    names = {"teacher": "主讲教师", "grade": "年级", "subject": "学科", "edition": "教材版本", "title": "课名"}
    made = []
    for i, (name, draw) in enumerate(NEW_CARDS.items()):
        made.append(Case(f"card-{name}", FAMILY, lesson([draw(NEW_PEOPLE[i])], i)))
        field = left_off[i]
        made.append(Case(f"card-defect-{name}-no-{field}", FAMILY, lesson([draw(_missing(NEW_PEOPLE[i], field))], i + 1),
                         (Expect("intro.title_card", *WINDOW, "review", f"{names[field]} left off"),)))
    return made
