"""/v1/embeddings on Gemini (batchEmbedContents), Vertex AI (predict) and Bedrock InvokeModel
(Titan, Cohere) through real Envoy with the official openai SDK: float and base64 answers,
the exact upstream request the mock received (SigV4 checked with botocore), usage reported or
estimated, counters, and errors in the OpenAI shape."""

import base64
import datetime
import hashlib
import json
import struct
import time
from unittest import mock

import openai
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from harness import KEYS, http

COUNTERS = ("llmgw_requests_total", "llmgw_prompt_tokens_total", "llmgw_estimated_usage_total")


def client(gateway):
    return openai.OpenAI(base_url=gateway.base + "/v1", api_key="sk-client-secret", max_retries=0)


def mock_vector(key, dims):
    """The mock's deterministic vector (integration-tests/mock/src/embeddings.rs)."""
    out = []
    for k in range(dims):
        h = 0xCBF29CE484222325 ^ k
        for b in key.encode():
            h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
        out.append(((h % 2001) - 1000.0) / 1024.0)
    return out


def counters(gateway, model, provider, upstream):
    # Labels keep the model's dots and colons.
    return {n: gateway.counter(n, model, provider, upstream) for n in COUNTERS}


def delta(gateway, before, model, provider, upstream, want):
    """Counter increments since `before`, polled until they equal `want` (Envoy flushes
    counters asynchronously) or 10 s pass."""
    deadline = time.time() + 10
    while True:
        after = counters(gateway, model, provider, upstream)
        got = {n: after[n] - before[n] for n in COUNTERS}
        if got == want or time.time() > deadline:
            return got
        time.sleep(0.2)


def botocore_authorization(rec):
    h = rec["headers"]
    req = AWSRequest(method="POST", url=f"https://{h['host']}{rec['path']}", data=rec["body"].encode(),
                     headers={"Content-Type": h["content-type"], "X-Amz-Content-SHA256": h["x-amz-content-sha256"]})
    creds = Credentials(KEYS["DEMO_AWS_ACCESS_KEY_ID"], KEYS["DEMO_AWS_SECRET_ACCESS_KEY"],
                        KEYS["DEMO_AWS_SESSION_TOKEN"])
    when = datetime.datetime.strptime(h["x-amz-date"], "%Y%m%dT%H%M%SZ")
    with mock.patch("botocore.auth.get_current_datetime", return_value=when):
        SigV4Auth(creds, "bedrock", "us-east-1").add_auth(req)
    return req.headers["Authorization"]


def check_signed(rec):
    h = rec["headers"]
    assert h["host"] == "bedrock-runtime.us-east-1.amazonaws.com"
    assert h["x-amz-content-sha256"] == hashlib.sha256(rec["body"].encode()).hexdigest()
    assert h["authorization"] == botocore_authorization(rec)
    assert "sk-client-secret" not in json.dumps(rec)


def test_gemini_sdk_base64_and_float_usage_estimated(gateway, gm):
    before = counters(gateway, "gemini-embed", "gemini", "gemini-embedding-001")
    c = client(gateway)
    # The SDK asks for base64 by default and decodes it.
    r1 = c.embeddings.create(model="gemini-embed", input=["hello world", "bye"])
    r2 = c.embeddings.create(model="gemini-embed", input="hello world", encoding_format="float", dimensions=4)
    assert [d.index for d in r1.data] == [0, 1]
    assert r1.data[0].embedding == mock_vector("hello world", 8)
    assert r1.data[1].embedding == mock_vector("bye", 8)
    assert r2.data[0].embedding == mock_vector("hello world", 4)
    assert r1.model == "gemini-embedding-001"
    # Gemini reports no usage: ceil(11/4) + ceil(3/4) estimated tokens.
    assert (r1.usage.prompt_tokens, r1.usage.total_tokens) == (4, 4)
    assert r2.usage.prompt_tokens == 3
    rec1, rec2 = gm.requests()
    path = "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert rec1["path"] == rec2["path"] == path
    assert rec1["headers"]["x-goog-api-key"] == KEYS["DEMO_GEMINI_KEY"]
    assert "authorization" not in rec1["headers"]
    assert json.loads(rec1["body"]) == {"requests": [
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "hello world"}]}},
        {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "bye"}]}}]}
    assert json.loads(rec2["body"])["requests"][0]["outputDimensionality"] == 4
    want = {"llmgw_requests_total": 2, "llmgw_prompt_tokens_total": 7, "llmgw_estimated_usage_total": 2}
    assert delta(gateway, before, "gemini-embed", "gemini", "gemini-embedding-001", want) == want


def test_gemini_raw_base64_is_little_endian_f32(gateway, gm):
    status, headers, body = http("POST", gateway.base + "/v1/embeddings",
                                 {"model": "gemini-embed", "input": "abc", "encoding_format": "base64"},
                                 {"content-type": "application/json"})
    assert status == 200, body
    v = json.loads(body)
    assert v["object"] == "list" and v["data"][0]["object"] == "embedding"
    assert list(struct.unpack("<8f", base64.b64decode(v["data"][0]["embedding"]))) == mock_vector("abc", 8)
    assert headers["x-llm-provider"] == "gemini"


def test_vertex_predict_usage_reported(gateway, vx):
    before = counters(gateway, "vertex-embed", "vertex", "text-embedding-005")
    r = client(gateway).embeddings.create(model="vertex-embed", input=["a b c", "d"], dimensions=3)
    assert [d.embedding for d in r.data] == [mock_vector("a b c", 3), mock_vector("d", 3)]
    assert r.usage.prompt_tokens == 4
    [rec] = vx.requests()
    assert rec["path"] == ("/v1/projects/demo-project/locations/us-central1/publishers/google/models/"
                           "text-embedding-005:predict")
    assert rec["headers"]["authorization"] == "Bearer " + KEYS["DEMO_VERTEX_TOKEN"]
    assert json.loads(rec["body"]) == {"instances": [{"content": "a b c"}, {"content": "d"}],
                                       "parameters": {"outputDimensionality": 3}}
    want = {"llmgw_requests_total": 1, "llmgw_prompt_tokens_total": 4, "llmgw_estimated_usage_total": 0}
    assert delta(gateway, before, "vertex-embed", "vertex", "text-embedding-005", want) == want


def test_bedrock_titan_signed_base64_and_float(gateway, bedrock):
    before = counters(gateway, "titan-embed", "bedrock", "amazon.titan-embed-text-v2:0")
    c = client(gateway)
    r1 = c.embeddings.create(model="titan-embed", input="hello there world")
    r2 = c.embeddings.create(model="titan-embed", input=["hi"], encoding_format="float", dimensions=256)
    assert r1.data[0].embedding == mock_vector("hello there world", 1024)
    assert r2.data[0].embedding == mock_vector("hi", 256)
    assert (r1.usage.prompt_tokens, r2.usage.prompt_tokens) == (3, 1)
    rec1, rec2 = bedrock.requests()
    assert rec1["path"] == "/model/amazon.titan-embed-text-v2%3A0/invoke"
    assert json.loads(rec1["body"]) == {"inputText": "hello there world", "normalize": True}
    assert json.loads(rec2["body"]) == {"inputText": "hi", "dimensions": 256, "normalize": True}
    for rec in (rec1, rec2):
        check_signed(rec)
    want = {"llmgw_requests_total": 2, "llmgw_prompt_tokens_total": 4, "llmgw_estimated_usage_total": 0}
    assert delta(gateway, before, "titan-embed", "bedrock", "amazon.titan-embed-text-v2:0", want) == want


def test_bedrock_titan_refuses_several_inputs(gateway, bedrock):
    with pytest.raises(openai.BadRequestError) as e:
        client(gateway).embeddings.create(model="titan-embed", input=["a", "b"])
    assert e.value.body["param"] == "input"
    assert "one text per request" in e.value.body["message"]
    assert bedrock.requests() == []


def test_bedrock_cohere_signed_usage_from_header(gateway, bedrock):
    before = counters(gateway, "cohere-embed", "bedrock", "cohere.embed-english-v3")
    c = client(gateway)
    r1 = c.embeddings.create(model="cohere-embed", input=["first text", "second"])
    r2 = c.embeddings.create(model="cohere-embed", input="x y", encoding_format="float")
    assert [d.embedding for d in r1.data] == [mock_vector("first text", 1024), mock_vector("second", 1024)]
    assert r2.data[0].embedding == mock_vector("x y", 1024)
    assert (r1.usage.prompt_tokens, r2.usage.prompt_tokens) == (3, 2)
    rec1, rec2 = bedrock.requests()
    assert rec1["path"] == "/model/cohere.embed-english-v3/invoke"
    assert json.loads(rec1["body"]) == {"texts": ["first text", "second"], "input_type": "search_document"}
    for rec in (rec1, rec2):
        check_signed(rec)
    want = {"llmgw_requests_total": 2, "llmgw_prompt_tokens_total": 5, "llmgw_estimated_usage_total": 0}
    assert delta(gateway, before, "cohere-embed", "bedrock", "cohere.embed-english-v3", want) == want


@pytest.mark.parametrize("model,mock_name,status,error", [
    ("gemini-embed", "gemini_mock", 429, openai.RateLimitError),
    ("vertex-embed", "vertex_mock", 503, openai.InternalServerError),
    ("titan-embed", "bedrock_mock", 429, openai.RateLimitError),
    ("cohere-embed", "bedrock_mock", 400, openai.BadRequestError),
])
def test_upstream_errors_keep_status_in_openai_shape(gateway, mocks, model, mock_name, status, error):
    mocks[mock_name].reset()
    with pytest.raises(error) as e:
        client(gateway).embeddings.create(model=model, input="x", extra_headers={"x-mock-status": str(status)})
    assert e.value.status_code == status
    assert isinstance(e.value.body["message"], str) and e.value.body["message"]


@pytest.mark.parametrize("body,param", [
    ({"model": "gemini-embed", "input": [[1, 2, 3]]}, "input"),
    ({"model": "cohere-embed", "input": "x", "dimensions": 256}, "dimensions"),
    ({"model": "bedrock/anthropic.claude-3-haiku-20240307-v1:0", "input": "x"}, "model"),
])
def test_local_refusals(gateway, gm, bedrock, body, param):
    s, _, out = http("POST", gateway.base + "/v1/embeddings", body, {"content-type": "application/json"})
    assert s == 400, out
    assert json.loads(out)["error"]["param"] == param
    assert gm.requests() == [] and bedrock.requests() == []
