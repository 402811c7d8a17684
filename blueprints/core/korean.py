"""Korean particles chosen by the word before them: 회계로, 계좌이체로, 모임은, 신청서를.

A word ends in a consonant (받침) or a vowel, and the particle follows: 은/는, 이/가, 을/를,
과/와, 이라/라, 아/야; 으로/로 takes 로 after a vowel *and* after ㄹ (서울로). Digits are read as
Korean numbers (3으로 "삼으로", 2로 "이로") and Latin letters by their English names (PDF로, QR을),
so labels such as "1차" or "PDF" get the right particle; decomposed Hangul (NFD) and
full-width characters are read in their usual form. Text in closing brackets or quotes at
the end is skipped: "현금(영수증)" takes the particle of 현금.
"""
import re
import unicodedata

# (after a final consonant, after a vowel)
PAIRS = {
    "은/는": ("은", "는"), "이/가": ("이", "가"), "을/를": ("을", "를"), "과/와": ("과", "와"),
    "이라/라": ("이라", "라"), "아/야": ("아", "야"), "으로/로": ("으로", "로"), "이다/다": ("이다", "다"),
}
_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_RIEUL = 8  # index of ㄹ among the 28 finals (0 = none)
# Final sound of the Korean reading of the last digit: 영 일 이 삼 사 오 육 칠 팔 구.
_DIGIT_FINAL = {"0": 21, "1": _RIEUL, "2": 0, "3": 16, "4": 0, "5": 0, "6": 1, "7": _RIEUL, "8": _RIEUL, "9": 0}
# English letter names that end in a consonant sound (엘, 엠, 엔, 알 ...); ㄹ for L and R.
_LETTER_FINAL = {"l": _RIEUL, "m": 16, "n": 4, "r": _RIEUL}
_TRAILING = re.compile(r"(\s*[\(\[\{«「『<][^\)\]\}»」』>]*[\)\]\}»」』>]|[\s'\"’”」』.,!?~])+$")


def final_consonant(word: str) -> int:
    """Index (0–27) of the final consonant of the word's last sound; 0 when it ends in a vowel."""
    # NFKC: a decomposed syllable (a Mac's 모임 ends in the jamo ㅁ) and full-width digits and
    # letters are read as what they show.
    word = unicodedata.normalize("NFKC", str(word))
    stem = _TRAILING.sub("", word) or word
    if not stem:
        return 0
    last = stem[-1]
    code = ord(last)
    if _HANGUL_FIRST <= code <= _HANGUL_LAST:
        return (code - _HANGUL_FIRST) % 28
    if last in _DIGIT_FINAL:
        if len(stem) >= 2 and last == "0" and stem[-2].isdigit():
            # 10 십, 100 백, 1000 천, 10000 만: the largest round unit decides
            zeros = len(stem) - len(stem.rstrip("0"))
            return {1: 17, 2: 1, 3: 4}.get(zeros, 4)
        return _DIGIT_FINAL[last]
    return _LETTER_FINAL.get(last.lower(), 0)


def particle(word: str, pair: str) -> str:
    """The particle of ``pair`` ("은/는", "으로/로", ...) that follows ``word``."""
    after_consonant, after_vowel = PAIRS[pair]
    final = final_consonant(word)
    if pair == "으로/로" and final == _RIEUL:
        return after_vowel
    return after_consonant if final else after_vowel


def with_particle(word, pair: str) -> str:
    """``word`` followed by its particle: with_particle("회계", "으로/로") == "회계로"."""
    return f"{word}{particle(word, pair)}"
