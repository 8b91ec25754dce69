// The Vercel AI SDK's default OpenAI provider (`openai(model)`: the Responses API) against
// the gateway. Usage: node vercel.mjs <base URL with /v1> <model>. Prints one JSON line
// with what generateText and streamText returned.
import { generateText, streamText, tool, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { z } from "zod";

const [baseURL, model] = process.argv.slice(2);
const openai = createOpenAI({ baseURL, apiKey: "sk-client-secret" });

const generated = await generateText({ model: openai(model), prompt: "hello from vercel" });

const streamed = streamText({ model: openai(model), prompt: "stream from vercel" });
let streamedText = "";
for await (const part of streamed.textStream) streamedText += part;
const streamedUsage = await streamed.usage;

const weather = tool({
  description: "Weather for a city",
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});
const withTool = await generateText({
  model: openai(model),
  prompt: "weather in Paris?",
  tools: { get_weather: weather },
  stopWhen: stepCountIs(3),
});

console.log(JSON.stringify({
  generated: { text: generated.text, usage: generated.usage, finishReason: generated.finishReason },
  streamed: { text: streamedText, usage: streamedUsage },
  tool: { text: withTool.text, steps: withTool.steps.length },
}));
