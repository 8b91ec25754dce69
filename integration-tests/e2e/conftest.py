import pytest

from harness import Envoy, Mock


@pytest.fixture(scope="session")
def mocks():
    m = {"openai_mock": Mock("openai"), "anthropic_mock": Mock("anthropic"),
         "gemini_mock": Mock("gemini"), "vertex_mock": Mock("vertex")}
    m.update({"azure_mock": Mock("azure"), "groq_mock": Mock("groq"), "bedrock_mock": Mock("bedrock")})
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
def gm(mocks):
    mocks["gemini_mock"].reset()
    return mocks["gemini_mock"]


@pytest.fixture()
def vx(mocks):
    mocks["vertex_mock"].reset()
    return mocks["vertex_mock"]


@pytest.fixture()
def az(mocks):
    mocks["azure_mock"].reset()
    return mocks["azure_mock"]


@pytest.fixture()
def groq(mocks):
    mocks["groq_mock"].reset()
    return mocks["groq_mock"]


@pytest.fixture()
def bedrock(mocks):
    mocks["bedrock_mock"].reset()
    return mocks["bedrock_mock"]
