"""Reasoning token counts through real Envoy with the official openai SDK: the count the
provider reported (OpenAI `completion_tokens_details.reasoning_tokens` / Responses
`output_tokens_details.reasoning_tokens`, Gemini and Vertex Gemini `thoughtsTokenCount`) reaches
the client in chat (whole and streamed) and Responses answers; Anthropic reports none apart."""

import openai
import pytest

# model → (mock cluster, reasoning counted apart by the provider)
MODELS = {
    "gpt-4o-mini": ("openai_mock", True),
    "gemini-flash": ("gemini_mock", True),
    "vertex-gemini": ("vertex_mock", True),
    "groq-llama": ("groq_mock", True),
    "claude-sonnet": ("anthropic_mock", False),
}


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client", max_retries=0)


def served(mocks, model):
    [rec] = mocks[MODELS[model][0]].requests()
    return rec["usage"]


def fresh(mocks, model):
    mocks[MODELS[model][0]].reset()


def check(usage_prompt, usage_completion, reasoning, rec, model):
    assert usage_prompt == rec["prompt_tokens"]
    assert usage_completion == rec["completion_tokens"]
    if MODELS[model][1]:
        # The mocks think only when asked: a zero here would prove nothing.
        assert rec.get("reasoning_tokens", 0) > 0
        assert reasoning == rec["reasoning_tokens"]
    else:
        assert reasoning is None or reasoning == 0


@pytest.mark.parametrize("model", [m for m in MODELS if m != "groq-llama"])
def test_chat_reports_reasoning_tokens(gateway, mocks, model):
    fresh(mocks, model)
    resp = client(gateway).chat.completions.create(
        model=model, reasoning_effort="low", messages=[{"role": "user", "content": "think about it"}])
    details = resp.usage.completion_tokens_details
    reasoning = details.reasoning_tokens if details else None
    check(resp.usage.prompt_tokens, resp.usage.completion_tokens, reasoning, served(mocks, model), model)
    if not MODELS[model][1]:
        assert details is None  # unknown is not written as zero


@pytest.mark.parametrize("model", [m for m in MODELS if m != "groq-llama"])
def test_chat_stream_reports_reasoning_tokens(gateway, mocks, model):
    fresh(mocks, model)
    chunks = list(client(gateway).chat.completions.create(
        model=model, reasoning_effort="low", stream=True, stream_options={"include_usage": True},
        messages=[{"role": "user", "content": "think about it"}]))
    [usage] = [c.usage for c in chunks if c.usage]
    details = usage.completion_tokens_details
    reasoning = details.reasoning_tokens if details else None
    check(usage.prompt_tokens, usage.completion_tokens, reasoning, served(mocks, model), model)


@pytest.mark.parametrize("stream", [False, True], ids=["create", "stream"])
@pytest.mark.parametrize("model", list(MODELS))
def test_responses_report_reasoning_tokens(gateway, mocks, model, stream):
    fresh(mocks, model)
    c = client(gateway)
    args = dict(model=model, input="think about it", reasoning={"effort": "low"})
    if stream:
        with c.responses.stream(**args) as s:
            list(s)
            resp = s.get_final_response()
    else:
        resp = c.responses.create(**args)
    u = resp.usage
    check(u.input_tokens, u.output_tokens, u.output_tokens_details.reasoning_tokens,
          served(mocks, model), model)
