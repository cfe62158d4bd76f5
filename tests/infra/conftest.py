"""The deployable stack, built once per session exactly as `make package` builds it.

The build reaches PyPI only (for the Lambda wheels) and needs no AWS account; a second build
reuses chalice's cached dependencies, so the whole layer stays well under two minutes.
"""
import pytest

from tools import package as packaging


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    return packaging.build("prod", tmp_path_factory.mktemp("package-prod"))


@pytest.fixture(scope="session")
def template(built):
    """sam.json as written: what `aws cloudformation deploy` is given."""
    return built.load()


@pytest.fixture(scope="session")
def stack(template):
    """The same template after the SAM transform: the resources CloudFormation really creates."""
    return packaging.sam_transform(template)
