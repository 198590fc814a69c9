"""Every release named in CHANGELOG.md that had a model kind besides markov,
rendered as a plugin of that kind and edited by its user, updates to this working
tree cleanly (see release_updates.py). A module of its own so that it runs beside
test_update_from_releases.py, which updates the Markov renders."""

import pytest

from release_updates import FIRST_KIND, Updates, cases


@pytest.fixture(scope="module")
def updates(tmp_path_factory) -> Updates:
    return Updates(tmp_path_factory.mktemp("releases-api"))


@pytest.mark.parametrize("case", cases(lambda kind: kind != FIRST_KIND))
def test_update_from_a_release_keeps_the_users_edits(updates, case):
    updates.run(case)
