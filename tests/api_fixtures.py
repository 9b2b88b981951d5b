"""The graph home and knowledge base that the API, UI, fuzz and load tests share, as fixtures (a pytest plugin that
``conftest.py`` loads). Both are built once per session (see ``test_api.small_home``)."""

import pytest
from api_helpers import small_home, small_kb


@pytest.fixture(scope="module")
def home(tmp_path_factory, dataset_dir):
    return small_home(tmp_path_factory, dataset_dir)


@pytest.fixture(scope="module")
def kb(tmp_path_factory, dataset_dir):
    return small_kb(tmp_path_factory, dataset_dir)
