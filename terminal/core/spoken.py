"""Spoken prompts (issue 20): what the terminal says to the customer, in the shop's
language, with amounts read the way each language reads money ("lima puluh tujuh ribu
tiga ratus rupiah", "тавин долоон мянга гурван зуун төгрөг", "五万七千三百元"). Pure
text for a speech engine; no I/O here.

The sentences are kept here per language rather than in the gettext catalogues: each
language's number grammar is code (Indonesian's "se-" forms, Mongolian's attributive
forms before a noun, Chinese 零 and 两, yuan-jiao-fen), and the sentence must be built
around it the same way.
"""

from __future__ import annotations

from terminal.core.money import Currency

PROMPTS = ("total", "card", "change", "thanks")

_SENTENCES = {
    "id": {
        "total": "total {amount}",
        "card": "silakan masukkan atau tempelkan kartu Anda",
        "change": "kembalian {amount}",
        "thanks": "terima kasih",
    },
    "mn": {
        "total": "нийт {amount}",
        "card": "картаа хийж эсвэл хүргэнэ үү",
        "change": "хариулт {amount}",
        "thanks": "баярлалаа",
    },
    "zh": {
        "total": "合计{amount}",
        "card": "请插卡或挥卡",
        "change": "找零{amount}",
        "thanks": "谢谢惠顾",
    },
    "en": {
        "total": "total {amount}",
        "card": "please insert or tap your card",
        "change": "change {amount}",
        "thanks": "thank you",
    },
}


def sentence(prompt: str, language: str, amount: int | None, currency: Currency) -> str:
    """The prompt's words in ``language`` (English for one we do not speak)."""
    table = _SENTENCES.get(language, _SENTENCES["en"])
    words = table[prompt]
    if "{amount}" not in words:
        return words
    if amount is None:
        raise ValueError(f"{prompt}: an amount is needed")
    spoken = money_words(amount, currency, language if language in _SENTENCES else "en")
    return words.format(amount=spoken)


def money_words(amount: int, currency: Currency, language: str) -> str:
    """``amount`` (minor units) as said aloud with its currency."""
    whole, cents = divmod(abs(amount), 10**currency.exponent)
    if language == "zh":
        return _zh_money(whole, cents, currency)
    unit = {
        ("id", "IDR"): "rupiah",
        ("mn", "MNT"): "төгрөг",
        ("en", "IDR"): "rupiah",
        ("en", "MNT"): "tugrik",
        ("en", "CNY"): "yuan",
        ("id", "MNT"): "tugrik",
        ("id", "CNY"): "yuan",
        ("mn", "IDR"): "рупи",
        ("mn", "CNY"): "юань",
    }.get((language, currency.code), currency.code)
    say = {"id": indonesian, "mn": mongolian, "en": english}[language]
    parts = [f"{say(whole)} {unit}"] if whole or not cents else []
    if cents:
        sub = {"id": "sen", "mn": "мөнгө", "en": "cent" if cents == 1 else "cents"}[language]
        parts.append(f"{say(cents)} {sub}")
    return " ".join(parts)


# -- Indonesian ------------------------------------------------------------------------------
_ID_ONES = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]
_ID_SCALES = [(10**12, "triliun"), (10**9, "miliar"), (10**6, "juta")]


def _id_below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append("seratus" if hundreds == 1 else f"{_ID_ONES[hundreds]} ratus")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(f"{_ID_ONES[tens]} puluh")
        if ones:
            words.append(_ID_ONES[ones])
    elif rest >= 12:
        words.append(f"{_ID_ONES[rest - 10]} belas")
    elif rest == 11:
        words.append("sebelas")
    elif rest == 10:
        words.append("sepuluh")
    elif rest:
        words.append(_ID_ONES[rest])
    return words


def indonesian(n: int) -> str:
    """A whole number in Indonesian words: 57300 -> "lima puluh tujuh ribu tiga ratus"."""
    if n == 0:
        return "nol"
    words: list[str] = []
    for scale, name in _ID_SCALES:
        count, n = divmod(n, scale)
        if count:
            words += [*_id_below_thousand_or_more(count), name]
    thousands, n = divmod(n, 1000)
    if thousands == 1:
        words.append("seribu")
    elif thousands:
        words += [*_id_below_thousand(thousands), "ribu"]
    words += _id_below_thousand(n)
    return " ".join(words)


def _id_below_thousand_or_more(n: int) -> list[str]:
    return indonesian(n).split() if n >= 1000 else _id_below_thousand(n)


# -- Mongolian (attributive forms: the amount is followed by its currency) -------------------
_MN_ONES = ["", "нэг", "хоёр", "гурван", "дөрвөн", "таван", "зургаан", "долоон", "найман", "есөн"]
_MN_TENS = ["", "арван", "хорин", "гучин", "дөчин", "тавин", "жаран", "далан", "наян", "ерэн"]


def _mn_below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += ([] if hundreds == 1 else [_MN_ONES[hundreds]]) + ["зуун"]
    tens, ones = divmod(rest, 10)
    if tens:
        words.append(_MN_TENS[tens])
    if ones:
        words.append(_MN_ONES[ones])
    return words


def mongolian(n: int) -> str:
    """A whole number in Mongolian as said before a noun (an amount before "төгрөг"):
    57300 -> "тавин долоон мянга гурван зуун"; 1000 -> "мянган"."""
    if n == 0:
        return "тэг"
    words: list[str] = []
    billions, n = divmod(n, 10**9)
    if billions:
        words += [*mongolian(billions).split(), "тэрбум"]
    millions, n = divmod(n, 10**6)
    if millions:
        words += [*_mn_below_thousand(millions), "сая"]
    thousands, n = divmod(n, 1000)
    if thousands:
        words += [] if thousands == 1 else _mn_below_thousand(thousands)
        words.append("мянга" if n else "мянган")  # "мянган" only right before the noun
    words += _mn_below_thousand(n)
    return " ".join(words)


# -- English ---------------------------------------------------------------------------------
_EN_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_EN_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _en_below_thousand(n: int) -> list[str]:
    words: list[str] = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words += [_EN_ONES[hundreds], "hundred"]
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(_EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else ""))
    elif rest:
        words.append(_EN_ONES[rest])
    return words


def english(n: int) -> str:
    if n == 0:
        return "zero"
    words: list[str] = []
    for scale, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand")):
        count, n = divmod(n, scale)
        if count:
            words += [*_en_below_thousand(count), name]
    return " ".join(words + _en_below_thousand(n))


# -- Chinese ---------------------------------------------------------------------------------
_ZH_DIGITS = "零一二三四五六七八九"


def _zh_below_10000(n: int, leading: bool) -> str:
    """0 < n < 10000; ``leading``: the number's first group (一十 is said 十 there)."""
    out, zero = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            if zero and out:
                out += "零"
            zero = False
            if digit == 2 and unit in ("千",) and not out and leading:
                out += "两"
            elif digit == 1 and unit == "十" and not out and leading:
                pass  # 十二, not 一十二
            else:
                out += _ZH_DIGITS[digit]
            out += unit
        elif out:
            zero = True
    return out


def chinese(n: int) -> str:
    """A whole number in Chinese: 57300 -> 五万七千三百; 10050 -> 一万零五十."""
    if n == 0:
        return "零"
    groups = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    out, skipped = "", False
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        leading = not out
        if group == 0:
            skipped = bool(out)  # 一亿零一千: a group of zeros between is read 零
            continue
        if out and (group < 1000 or skipped):
            out += "零"
        skipped = False
        words = _zh_below_10000(group, leading)
        if leading and group == 2 and index > 0:
            words = "两"
        out += words + ("", "万", "亿", "万亿")[index]
    return out


def _zh_money(whole: int, cents: int, currency: Currency) -> str:
    unit = {"CNY": "元", "MNT": "图格里克", "IDR": "印尼盾"}.get(currency.code, currency.code)
    number = "两" if whole == 2 else chinese(whole)  # money is counted: 两元, 两角
    text = f"{number}{unit}" if whole or not cents else ""
    if cents and currency.exponent == 2:
        jiao, fen = divmod(cents, 10)
        if jiao:
            text += f"{'两' if jiao == 2 else _ZH_DIGITS[jiao]}角"
        elif whole:
            text += "零"
        if fen:
            text += f"{'两' if fen == 2 else _ZH_DIGITS[fen]}分"
    return text
