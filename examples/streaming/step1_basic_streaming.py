"""Step 1: Set Up Basic Streaming (docs/tutorials/streaming.md), as written."""

from deepsentinel import SentinelClient, ComplianceViolationError
import os
import sys
import time

# Initialize the client
client = SentinelClient(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY")
)

# Create a streaming request
try:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{
            "role": "user", 
            "content": "Write a short poem about AI safety"
        }],
        stream=True,  # Enable streaming
        temperature=0.7,
        max_tokens=200
    )
    
    # Process the stream
    print("Response: ", end="")
    for chunk in stream:
        if chunk.choices[0].delta.content is not None:
            content = chunk.choices[0].delta.content
            print(content, end="", flush=True)
            # Optional: add small delay to simulate typing effect
            time.sleep(0.01)
            
    print("\n\nStream completed")
    
except ComplianceViolationError as e:
    print(f"Compliance violation: {e.message}")
except Exception as e:
    print(f"Error: {str(e)}")
