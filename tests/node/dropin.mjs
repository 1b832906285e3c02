// The official openai npm client against an OpenAI-compatible base URL (argv[2]); one JSON line out.
// Steps: a chat completion, a streamed one, a Responses call. A failing step records its error and
// what text it had collected, so a guarded path can be checked for what leaked before the cut.
import OpenAI from "openai";

const [baseURL, prompt] = process.argv.slice(2);
const client = new OpenAI({ apiKey: "test", baseURL, maxRetries: 0, timeout: 10_000 });
const messages = [{ role: "user", content: prompt }];
const model = "gpt-4o-mini";

async function step(run) {
  const collected = [];
  try {
    await run(collected);
    return { ok: true, text: collected.join("") };
  } catch (error) {
    return { ok: false, text: collected.join(""), error: String(error?.constructor?.name), status: error?.status ?? null };
  }
}

const result = {
  chat: await step(async (out) => {
    const completion = await client.chat.completions.create({ model, messages });
    out.push(completion.choices[0].message.content);
  }),
  chatStream: await step(async (out) => {
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    for await (const chunk of stream) out.push(chunk.choices[0]?.delta?.content ?? "");
  }),
  responses: await step(async (out) => {
    const response = await client.responses.create({ model, input: prompt });
    out.push(response.output_text);
  }),
  responsesStream: await step(async (out) => {
    const stream = await client.responses.create({ model, input: prompt, stream: true });
    for await (const event of stream) if (event.type === "response.output_text.delta") out.push(event.delta);
  }),
};
console.log(JSON.stringify(result));
