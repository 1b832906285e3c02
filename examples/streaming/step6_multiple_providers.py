"""Step 6: Streaming with Multiple Providers (docs/tutorials/streaming.md), as written."""

from deepsentinel import SentinelClient
import os
import time

# Initialize client with multiple providers
client = SentinelClient(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY"),
    anthropic_api_key=os.getenv("ANTHROPIC_API_KEY")
)

def stream_from_provider(provider, model, prompt):
    """Stream a response from a specific provider."""
    print(f"\nStreaming from {provider} ({model}):")
    print("-" * 40)
    
    try:
        stream = client.chat.completions.create(
            model=model,
            messages=[{"role": "user", "content": prompt}],
            provider=provider,
            stream=True,
            max_tokens=150
        )
        
        print("Response: ", end="")
        for chunk in stream:
            if chunk.choices[0].delta.content is not None:
                content = chunk.choices[0].delta.content
                print(content, end="", flush=True)
                time.sleep(0.01)
                
        print("\n")
        
    except Exception as e:
        print(f"Error with {provider}: {str(e)}")

# Stream from both providers with the same prompt
prompt = "Explain the concept of streaming in AI in three sentences."
stream_from_provider("openai", "gpt-4o", prompt)
stream_from_provider("anthropic", "claude-3-opus-20240229", prompt)
