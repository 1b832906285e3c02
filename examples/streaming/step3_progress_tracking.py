"""Step 3: Progress Tracking for Long Responses (docs/tutorials/streaming.md), as written."""
# Continues step 1 of the tutorial, whose imports it relies on:
from deepsentinel import SentinelClient, ComplianceViolationError
import os
import sys
import time

# Initialize the client
client = SentinelClient(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY")
)

try:
    # Start a streaming request with a longer response
    print("Generating a story with progress tracking...")
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{
            "role": "user", 
            "content": "Write a short story about a robot learning ethics"
        }],
        stream=True,
        max_tokens=500
    )
    
    # Variables for progress tracking
    start_time = time.time()
    token_count = 0
    estimated_tokens = 500  # Our max_tokens value
    response_text = ""
    
    # Track progress as tokens arrive
    print("Progress: ", end="")
    for chunk in stream:
        if chunk.choices[0].delta.content is not None:
            content = chunk.choices[0].delta.content
            token_count += 1
            response_text += content
            
            # Update progress bar
            progress = min(token_count / estimated_tokens, 1.0)
            bars = int(progress * 30)
            sys.stdout.write("\r")
            sys.stdout.write(
                f"Progress: [{'#' * bars}{' ' * (30 - bars)}] "
                f"{int(progress * 100)}% ({token_count}/{estimated_tokens})"
            )
            sys.stdout.flush()
    
    # Calculate statistics
    elapsed_time = time.time() - start_time
    tokens_per_second = token_count / elapsed_time
    
    # Print final statistics
    print("\n\nGeneration Statistics:")
    print(f"  Total tokens: {token_count}")
    print(f"  Total time: {elapsed_time:.2f} seconds")
    print(f"  Speed: {tokens_per_second:.2f} tokens/second")
    
    # Print the full response
    print("\nFull story:")
    print(response_text)
    
except Exception as e:
    print(f"Error: {str(e)}")
