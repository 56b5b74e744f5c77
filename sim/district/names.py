"""Chinese place names with English forms for the demo district (roads, communities, places)."""

from __future__ import annotations

import numpy as np

STREET_NAME = ("东城街道", "Dongcheng Subdistrict")

#: community names (zh, en); a seeded sample is used
COMMUNITY_NAMES: tuple[tuple[str, str], ...] = (
    ("振兴社区", "Zhenxing"),
    ("榕树社区", "Rongshu"),
    ("河畔社区", "Hepan"),
    ("桑园社区", "Sangyuan"),
    ("牛山社区", "Niushan"),
    ("温塘社区", "Wentang"),
    ("鳌峙塘社区", "Aozhitang"),
    ("花园社区", "Huayuan"),
)

#: arterial road names: (zh, en)
ARTERIAL_NAMES: tuple[tuple[str, str], ...] = (
    ("东城大道", "Dongcheng Avenue"),
    ("莞樟路", "Guanzhang Road"),
    ("东纵大道", "Dongzong Avenue"),
    ("光明大道", "Guangming Avenue"),
)

#: secondary road names
SECONDARY_NAMES: tuple[tuple[str, str], ...] = (
    ("振兴路", "Zhenxing Road"),
    ("榕树路", "Rongshu Road"),
    ("育华路", "Yuhua Road"),
    ("新城路", "Xincheng Road"),
    ("环城路", "Huancheng Road"),
    ("桑园路", "Sangyuan Road"),
    ("同沙路", "Tongsha Road"),
    ("立新路", "Lixin Road"),
    ("涡岭路", "Woling Road"),
    ("柏洲路", "Baizhou Road"),
    ("金鳌路", "Jin'ao Road"),
    ("银湖路", "Yinhu Road"),
    ("鸿福路", "Hongfu Road"),
    ("富民路", "Fumin Road"),
    ("创业路", "Chuangye Road"),
    ("兴华路", "Xinghua Road"),
    ("东泰路", "Dongtai Road"),
    ("旗峰路", "Qifeng Road"),
    ("岗贝路", "Gangbei Road"),
    ("石井路", "Shijing Road"),
    ("黄旗路", "Huangqi Road"),
    ("峡口路", "Xiakou Road"),
    ("花园街", "Huayuan Street"),
    ("民生街", "Minsheng Street"),
)

VILLAGE_NAMES: tuple[tuple[str, str], ...] = (
    ("桑园村", "Sangyuan Village"),
    ("牛山村", "Niushan Village"),
    ("余屋村", "Yuwu Village"),
    ("周屋村", "Zhouwu Village"),
    ("黎屋村", "Liwu Village"),
    ("陈屋村", "Chenwu Village"),
    ("罗屋村", "Luowu Village"),
    ("林村", "Lincun Village"),
    ("峡口村", "Xiakou Village"),
    ("火炼树村", "Huolianshu Village"),
    ("下桥村", "Xiaqiao Village"),
    ("石井村", "Shijing Village"),
)

RIVER_NAME = ("寒溪河", "Hanxi River")

CHINESE_NUMERALS = "零一二三四五六七八九十"


def zh_number(n: int) -> str:
    """Chinese numeral for 1..99, as used in lane names (三巷, 十二巷).

    >>> zh_number(12)
    '十二'
    """
    if n >= 100:
        hundreds, rest = divmod(n, 100)
        tail = "" if rest == 0 else ("零" if rest < 10 else "") + zh_number(rest)
        return CHINESE_NUMERALS[hundreds] + "百" + tail.replace("零十", "零一十")
    if n <= 10:
        return CHINESE_NUMERALS[n]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens]
    return head + "十" + (CHINESE_NUMERALS[ones] if ones else "")


def ordinal_en(n: int) -> str:
    """English ordinal, e.g. ``3rd``.

    >>> ordinal_en(22)
    '22nd'
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def lane_name(village: tuple[str, str], n: int) -> tuple[str, str]:
    """Name of the n-th lane (巷) of an urban village."""
    return f"{village[0]}{zh_number(n)}巷", f"{village[1]} {ordinal_en(n)} Lane"


def pick(rng: np.random.Generator, names: tuple[tuple[str, str], ...], k: int) -> list:
    """``k`` distinct names in seeded order (cycling with a suffix when ``k`` exceeds the list)."""
    order = list(rng.permutation(len(names)))
    out = []
    for i in range(k):
        zh, en = names[order[i % len(names)]]
        if i >= len(names):
            zh, en = f"{zh}{zh_number(i // len(names) + 1)}", f"{en} {i // len(names) + 1}"
        out.append((zh, en))
    return out
