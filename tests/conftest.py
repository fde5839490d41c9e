"""Shared test set-up: pytest's temporary folders must be reachable by the sandbox's own uid."""
import os

import pytest


def _open_for_traversal(path, stop):
    "chmod o+x `path` and its parents up to `stop`'s parent (pytest makes them 0700)."
    for d in [path, *path.parents]:
        os.chmod(d, os.stat(d).st_mode | 0o111)
        if d == stop.parent: break


@pytest.fixture(autouse=True)
def _sandbox_reachable_tmp(request, tmp_path_factory):
    # As root, bwrap runs as an unprivileged uid of its own, which must walk through the parents of every workspace.
    # Opening pytest's folders for traversal (not listing) lets tests use tmp_path as a workspace.
    base = tmp_path_factory.getbasetemp()
    if "tmp_path" in request.fixturenames: _open_for_traversal(request.getfixturevalue("tmp_path"), base)
    else: _open_for_traversal(base, base)
    yield
