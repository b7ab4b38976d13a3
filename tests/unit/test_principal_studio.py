"""A caller whose role was read for one studio answers for that studio only, loudly."""

from __future__ import annotations

from uuid import uuid4

import pytest

from domains.policies import Action, Role
from queries.auth import Principal
from queries.problems import Problem


def test_roles_read_for_one_studio_answer_for_it_and_refuse_to_guess_others() -> None:
    mine, other = uuid4(), uuid4()
    caller = Principal(uuid4(), "a@example.com", uuid4(), roles={mine: Role.VIEWER}, studio=mine)
    assert caller.knows(mine) and not caller.knows(other) and not caller.knows(None)
    assert caller.may_see(mine)
    with pytest.raises(Problem) as refused:
        caller.require(mine, Action.INVITE)
    assert refused.value.status == 403
    # Another studio was never read: a bug in the route, not a 404 for the user.
    with pytest.raises(RuntimeError, match=str(other)):
        caller.may_see(other)


def test_roles_read_for_every_studio_answer_for_all() -> None:
    mine, other = uuid4(), uuid4()
    caller = Principal(uuid4(), "a@example.com", uuid4(), roles={mine: Role.OWNER})
    assert caller.knows(other) and caller.knows(None)
    assert caller.may_see(mine) and not caller.may_see(other)
    with pytest.raises(Problem) as missing:
        caller.require(other, Action.VIEW)
    assert missing.value.status == 404
