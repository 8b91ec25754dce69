import pytest

from harness import Envoy, Mock


@pytest.fixture(scope="session")
def mocks():
    m = {"openai_mock": Mock("openai"), "anthropic_mock": Mock("anthropic"), "bedrock_mock": Mock("bedrock")}
    yield m
    for mock in m.values():
        mock.stop()


@pytest.fixture(scope="session")
def gateway(mocks):
    """Envoy on the demo configuration, two workers."""
    e = Envoy(mocks, name="demo")
    yield e
    e.stop()


@pytest.fixture()
def oa(mocks):
    mocks["openai_mock"].reset()
    return mocks["openai_mock"]


@pytest.fixture()
def an(mocks):
    mocks["anthropic_mock"].reset()
    return mocks["anthropic_mock"]


@pytest.fixture()
def bedrock(mocks):
    mocks["bedrock_mock"].reset()
    return mocks["bedrock_mock"]
