"""The official openai SDK against the gateway (run `./build.sh demo` first).

    .venv/bin/python examples/clients/openai_sdk.py
"""

import json
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ.get("LLM_GATEWAY_URL", "http://localhost:10000") + "/v1",
                api_key="unused-by-the-demo")

# Plain chat, served by the Anthropic-format provider without the client knowing.
resp = client.chat.completions.create(
    model="claude-sonnet", messages=[{"role": "user", "content": "Hello!"}]
)
print(resp.choices[0].message.content, resp.usage)

# Streaming, with the final usage chunk.
for chunk in client.chat.completions.create(
    model="claude-sonnet",
    messages=[{"role": "user", "content": "Stream this"}],
    stream=True,
    stream_options={"include_usage": True},
):
    if chunk.choices:
        print(chunk.choices[0].delta.content or "", end="", flush=True)
    elif chunk.usage:
        print("\nusage:", chunk.usage)

# A tool-call round trip.
tools = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]
messages = [{"role": "user", "content": "Weather in Paris?"}]
first = client.chat.completions.create(model="claude-sonnet", messages=messages, tools=tools)
call = first.choices[0].message.tool_calls[0]
print("tool call:", call.function.name, json.loads(call.function.arguments))
messages += [
    {"role": "assistant", "tool_calls": [call.model_dump()]},
    {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
]
print(client.chat.completions.create(model="claude-sonnet", messages=messages, tools=tools)
      .choices[0].message.content)
