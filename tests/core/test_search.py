"""The search boxes answer the same on SQLite and PostgreSQL: case ignored, % and _ literal,
Korean in either normal form, spacing ignored, 동 by its everyday name (core/search.py)."""
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, text

from blueprints.accounts.models import User
from blueprints.accounts.services import search_users
from blueprints.core.search import matches, search_key, typed_key
from blueprints.groups.models import Group
from blueprints.groups.services import search_groups
from extensions import db


def _emails(typed):
    return sorted(db.session.scalars(select(User.email).where(matches(typed, User.search_key))))


def _names(typed, **filters):
    return sorted(g.name for g, _ in search_groups(q=typed, per_page=100, **filters).items)


def test_case_is_ignored_and_wildcards_are_literal(make_user):
    make_user("Kim.Parent@Example.kr", name="Kim Parent")
    make_user("rate100%@example.kr", name="백퍼센트")
    make_user("a_b@example.kr", name="밑줄")
    make_user("axb@example.kr", name="엑스")
    make_user("back\\slash@example.kr", name="역슬래시")
    db.session.commit()
    assert _emails("kim.PARENT") == ["Kim.Parent@Example.kr"]
    assert _emails("  parent ") == ["Kim.Parent@Example.kr"]  # what a person types around it
    assert _emails("100%") == ["rate100%@example.kr"]
    assert _emails("%") == ["rate100%@example.kr"]  # not every row
    assert _emails("a_b") == ["a_b@example.kr"]  # not axb
    assert _emails("_") == ["a_b@example.kr"]
    assert _emails("퍼센") == ["rate100%@example.kr"]  # by name too
    assert _emails("k\\s") == ["back\\slash@example.kr"]  # a backslash is a backslash
    assert _emails("\\") == ["back\\slash@example.kr"]
    assert _emails("\\%") == []


def test_admin_user_search_ignores_case(make_user):
    make_user("Treasurer@Example.KR", name="이회계")
    make_user("other@example.kr", name="박구성")
    db.session.commit()
    assert [u.email for u in search_users("treasurer@example.kr").items] == ["Treasurer@Example.KR"]


@pytest.fixture
def korean_groups(make_group):
    for name, dong in (("햇살품앗이", "망원1동"), ("달빛 품앗이 모임", "망원2동"), ("숲속 놀이터", "망원동"),
                       ("별빛모임", "성산1동"), ("가을 공동육아", "상계3·4동"), ("나무", "연남동")):
        make_group(name=name, dong=dong)
    db.session.commit()


def test_decomposed_korean_finds_composed_names_and_the_reverse(korean_groups, make_group):
    decomposed = unicodedata.normalize("NFD", "모임")
    assert decomposed != "모임" and len(decomposed) == 5   # jamo (ㅁㅗㅇㅣㅁ), as a Mac sends it
    assert _names(decomposed) == ["달빛 품앗이 모임", "별빛모임"]
    # A name stored decomposed is found by what a Windows keyboard sends.
    make_group(name=unicodedata.normalize("NFD", "바다모임"), dong="합정동")
    db.session.commit()
    assert _names("바다") == [unicodedata.normalize("NFD", "바다모임")]


def test_spacing_is_ignored_both_ways(korean_groups):
    assert _names("햇살 품앗이") == ["햇살품앗이"]
    assert _names("달빛품앗이") == ["달빛 품앗이 모임"]
    assert _names("숲속\u3000놀이\t터") == ["숲속 놀이터"]            # ideographic space, tab
    assert _names("햇\u200b살") == ["햇살품앗이"]                      # zero-width space
    # but a match never runs from the name into the 동
    assert _names("모임망원") == []


def test_dong_found_by_its_everyday_name_and_numbered_dong_only_by_itself(korean_groups):
    assert _names("망원동") == ["달빛 품앗이 모임", "숲속 놀이터", "햇살품앗이"]
    assert _names("망원1동") == ["햇살품앗이"]
    assert _names("망원 2동") == ["달빛 품앗이 모임"]
    assert _names("성산동") == ["별빛모임"]
    assert _names("상계동") == ["가을 공동육아"]
    assert _names("상계3·4동") == ["가을 공동육아"]
    assert _names("연남1동") == []


def test_the_key_follows_every_change(korean_groups, make_user):
    group = db.session.scalar(select(Group).where(Group.name == "나무"))
    group.name, group.dong = "큰 나무 모임", "합정동"
    db.session.commit()
    assert _names("큰나무") == ["큰 나무 모임"] and _names("연남") == []
    user = make_user("old@example.kr", name="김 하나")
    user.email = "new@example.kr"
    db.session.commit()
    assert _emails("김하나") == ["new@example.kr"] and _emails("old@") == []


@pytest.mark.parametrize("typed", ["", "   ", "\u3000", "\x00", "\t\n"])
def test_nothing_typed_finds_everything(korean_groups, typed):
    assert len(_names(typed)) == 6


@pytest.mark.parametrize("typed", ["\x00햇살", "햇\x00살", "햇살\x1b\x7f", "\ufeff햇살", "햇살\u202e"])
def test_control_characters_are_ignored_not_an_error(korean_groups, typed):
    assert _names(typed) == ["햇살품앗이"]


def test_huge_input_finds_nothing_without_an_error(korean_groups):
    assert _names("햇살" * 5000) == []
    assert _names("가" * 301) == []
    assert _emails("x" * 100_000) == []


def test_lists_answer_hostile_searches(client, auth, make_user, korean_groups):
    make_user("staff-s@example.kr", roles=("staff",))
    make_user("admin-s@example.kr", roles=("admin",))
    auth.login("staff-s@example.kr")
    for typed in ("%", "_", "\\", "'; DROP TABLE groups; --", "\x00", "햇살" * 3000, "   "):
        for url in ("/groups/", "/groups/export.csv"):
            assert client.get(url, query_string={"q": typed}).status_code == 200, (url, typed)
    page = client.get("/groups/", query_string={"q": unicodedata.normalize("NFD", "햇살 품앗이")}).get_data(as_text=True)
    assert "햇살품앗이" in page and "숲속 놀이터" not in page
    csv = client.get("/groups/export.csv", query_string={"q": "망원동"}).data.decode("utf-8-sig")
    assert "햇살품앗이" in csv and "숲속 놀이터" in csv and "별빛모임" not in csv
    auth.logout()
    auth.login("admin-s@example.kr")
    for url in ("/admin/users", "/admin/audit/"):
        for typed in ("%", "\x00", "a" * 5000):
            key = "q" if url == "/admin/users" else "who"
            assert client.get(url, query_string={key: typed}).status_code == 200, (url, typed)


def test_keys():
    assert typed_key(" 햇살 품앗이\n") == "햇살품앗이"
    assert search_key("햇살 품앗이", "M2027-0001", "망원1동") == "햇살품앗이 m2027-0001 망원1동 망원동"
    assert search_key("성수1가1동") == "성수1가1동 성수동"
    assert search_key("종로1·2·3·4가동") == "종로1·2·3·4가동 종로동"
    assert search_key("홍제1동") == "홍제1동 홍제동"
    assert search_key("2동 모임") == "2동모임"    # a number with no name before it is no dong


# The same answer on both databases, whatever the names and what is typed -------------------

HANGUL = st.characters(min_codepoint=0xAC00, max_codepoint=0xAC00 + 40)   # 가..갸-ish: collisions likely
PIECES = st.one_of(HANGUL, st.sampled_from(list(" 12동·%_\\\x00\u3000AaBb")))
NAMES = st.text(PIECES, min_size=1, max_size=12)
TYPED = st.text(PIECES, min_size=0, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(NAMES, NAMES), min_size=1, max_size=8),
       typed=st.lists(st.one_of(TYPED, st.sampled_from(["망원동", "망원1동", "가 나"])), min_size=1, max_size=4))
def test_the_database_agrees_with_the_keys_on_any_input(app, rows, typed):
    """Whatever the database (run on SQLite and on PostgreSQL through TEST_DATABASE_URL), the
    rows found are exactly the rows whose key holds the typed key: the same on both."""
    rows = [(name.replace("\x00", ""), dong.replace("\x00", "")) for name, dong in rows]   # a stored NUL: PG refuses
    try:
        stored = []
        for i, (name, dong) in enumerate(rows):
            group = Group(reg_no=f"H{i:04d}", name=name, district="마포구", dong=dong)
            db.session.add(group)
            stored.append(group)
        db.session.flush()
        index = {g.id: i for i, g in enumerate(stored)}
        for q in typed:
            found = sorted(index[g] for g in db.session.scalars(select(Group.id).where(matches(q, Group.search_key))))
            expected = [i for i in range(len(rows)) if not typed_key(q) or len(typed_key(q)) <= 300 and any(
                typed_key(q) in part for part in search_key(*rows[i][:1], f"H{i:04d}", rows[i][1]).split(" "))]
            assert found == expected, (q, rows)
    finally:
        db.session.rollback()
        db.session.execute(delete(Group))
        db.session.commit()


def test_postgres_uses_the_trigram_index(app):
    """EXPLAIN of a search over a few thousand groups: the GIN trigram index serves it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("the trigram index exists on PostgreSQL only")
    db.session.execute(text(
        "INSERT INTO groups (reg_no, name, district, dong, search_key, meeting_place, activity_type, affiliation, "
        "description, status, created_at, updated_at) "
        "SELECT 'T' || i, '모임 ' || i, '마포구', '망원' || (i % 3) || '동', "
        "'모임' || i || ' t' || i || ' 망원' || (i % 3) || '동 망원동', '', '', 'other', '', 'active', now(), now() "
        "FROM generate_series(1, 4000) AS i"))
    db.session.execute(text("ANALYZE groups"))
    stmt = select(Group.id).where(matches("모임 1234", Group.search_key))
    sql = str(stmt.compile(db.engine))
    params = stmt.compile(db.engine).params
    # The planner may still prefer a sequential scan of so small a table; that the index can
    # serve the LIKE is what matters (at 2,500 groups, 125 pages, a scan is as cheap: bench/FINDINGS.md).
    db.session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(row[0] for row in db.session.connection().exec_driver_sql(f"EXPLAIN {sql}", params))
    assert "Bitmap Index Scan on ix_groups_search_key_trgm" in plan, plan
    assert len(db.session.scalars(stmt).all()) == 1
    db.session.rollback()
