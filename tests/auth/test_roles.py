import pytest

from auth import roles
from auth.identity import Identity
from auth.roles import Forbidden, may, require


def who(*held, groups=()):
    return Identity(name="x", roles=frozenset(held), groups=frozenset(groups))


def test_wall_and_viewer_are_read_only():
    for ident in (who("wall"), who("viewer")):
        assert not any(may(ident, action) for action in roles.WRITE_ACTIONS - roles.GROUP_ACTIONS)
        assert not any(may(ident, action, "legal") for action in roles.GROUP_ACTIONS)
    assert may(who("wall"), "view.wall") and not may(who("wall"), "view.exec") and not may(who("wall"), "api.read")
    assert may(who("viewer"), "view.exec") and not may(who("viewer"), "view.room")


def test_strategist_frames_but_does_not_approve_or_administer():
    s = who("strategist")
    for action in ("card.create", "card.edit", "card.move", "card.draft", "post.mark", "post.frame", "alert.ack"):
        assert may(s, action)
    assert not may(s, "card.approve", "legal")
    assert not may(s, "user.manage")


def test_approvers_approve_only_in_their_groups():
    a = who("approver", groups=["legal"])
    assert may(a, "card.approve", "legal") and may(a, "card.reject", "legal")
    assert not may(a, "card.approve", "brand")
    assert not may(a, "card.approve")  # no group named: refused, never "any group"
    assert not may(a, "card.create")


def test_admin_administers_and_several_roles_add_up():
    assert all(
        may(who("admin"), a)
        for a in ("user.manage", "kiosk.manage", "token.manage", "guardrails.edit", "event.pause", "audit.read")
    )
    assert not may(who("admin"), "card.create")
    both = who("admin", "strategist")
    assert may(both, "card.create") and may(both, "user.manage")


def test_require_names_what_is_missing():
    require(who("strategist"), "card.create")
    with pytest.raises(Forbidden, match=r"x \(viewer\) may not card.create"):
        require(who("viewer"), "card.create")
    with pytest.raises(Forbidden, match="group 'brand'"):
        require(who("approver", groups=["legal"]), "card.approve", "brand")
    with pytest.raises(Forbidden, match="nobody"):
        require(None, "view.wall")


def test_unknown_actions_and_roles_are_errors_not_silent_refusals():
    with pytest.raises(ValueError, match="unknown action"):
        may(who("admin"), "card.delete_everything")
    with pytest.raises(ValueError, match="unknown role"):
        roles.parse_roles(["strategist", "superuser"])
    assert roles.parse_roles(["Admin", "wall", "admin"]) == ["wall", "admin"]
    with pytest.raises(ValueError):
        roles.parse_groups(["Legal Team"])


def test_home_page_per_role():
    assert roles.home(["wall"]) == "/wall"
    assert roles.home(["viewer", "wall"]) == "/exec"
    assert roles.home(["wall", "strategist"]) == "/"
