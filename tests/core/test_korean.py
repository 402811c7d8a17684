"""Particles chosen by the last sound of the word (no "(으)로", no "은(는)")."""
import pytest

from blueprints.core.korean import particle, with_particle


@pytest.mark.parametrize("word, pair, expected", [
    ("회계", "으로/로", "회계로"),
    ("계좌이체", "으로/로", "계좌이체로"),
    ("현금", "으로/로", "현금으로"),
    ("서울", "으로/로", "서울로"),          # ㄹ takes 로
    ("활동 중", "으로/로", "활동 중으로"),
    ("비활성", "으로/로", "비활성으로"),
    ("햇살품앗이", "은/는", "햇살품앗이는"),
    ("망원동 모임", "은/는", "망원동 모임은"),
    ("신청서", "을/를", "신청서를"),
    ("영수증", "을/를", "영수증을"),
    ("대표", "이/가", "대표가"),
    ("회계담당", "과/와", "회계담당과"),
    ("3", "으로/로", "3으로"),              # 삼
    ("2", "으로/로", "2로"),                # 이
    ("1", "으로/로", "1로"),                # 일: ㄹ
    ("10", "은/는", "10은"),                # 십
    ("PDF", "으로/로", "PDF로"),            # 에프
    ("QR", "을/를", "QR을"),                # 알
    ("현금(영수증)", "으로/로", "현금(영수증)으로"),
    ("'햇살'", "은/는", "'햇살'은"),
])
def test_particle_follows_the_last_sound(word, pair, expected):
    assert with_particle(word, pair) == expected


def test_every_pair_has_two_forms_and_unknown_pairs_are_refused():
    assert particle("모임", "이라/라") == "이라" and particle("나무", "이라/라") == "라"
    with pytest.raises(KeyError):
        particle("모임", "(으)로")


def test_the_template_filter_writes_the_word_and_its_particle(app):
    with app.app_context():
        rendered = app.jinja_env.from_string('{{ name|josa("으로/로") }}').render(name="계좌이체")
    assert rendered == "계좌이체로"


def test_keep_words_wraps_each_korean_word_that_could_break_and_escapes_the_rest():
    """WeasyPrint has no word-break: keep-all; the PDFs wrap each Korean word in a nowrap span."""
    from blueprints.core.formatting import keep_words

    html = str(keep_words('공동육아나눔터 놀이터 <b>"마트"</b> 및 (10명)\n124-82-10324 가나다라마바사아자차카'))
    assert html == ('<span class="kw">공동육아나눔터</span> <span class="kw">놀이터</span> '
                    '&lt;b&gt;&#34;마트&#34;&lt;/b&gt; 및 <span class="kw">(10명)</span>\n124-82-10324 '
                    '가나다라마바사아자차카')   # a lone syllable, numbers and a run longer than a cell stay bare
    assert str(keep_words(None)) == "" and str(keep_words("")) == ""
    assert str(keep_words('<마트>')) == '<span class="kw">&lt;마트&gt;</span>'   # escaped inside the span too


@pytest.mark.parametrize("word, pair, expected_particle", [
    ("모임", "은/는", "은"),            # a Mac sends names decomposed: the last jamo is the 받침 ㅁ
    ("햇살", "이/가", "이"),
    ("현금", "으로/로", "으로"),
    ("서울", "으로/로", "로"),
    ("나무", "을/를", "를"),
])
def test_a_decomposed_word_takes_the_particle_of_its_composed_form(word, pair, expected_particle):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", word)
    assert decomposed != word
    assert particle(decomposed, pair) == expected_particle


@pytest.mark.parametrize("word, pair, expected_particle", [
    ("１０", "은/는", "은"),            # full-width digits (a Korean keyboard's 전각 mode) read as 10
    ("３", "으로/로", "으로"),
    ("ＰＤＦ", "으로/로", "로"),
])
def test_full_width_digits_and_letters_are_read_as_their_plain_forms(word, pair, expected_particle):
    assert particle(word, pair) == expected_particle
