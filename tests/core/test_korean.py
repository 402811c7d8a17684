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
