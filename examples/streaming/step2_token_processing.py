"""Step 2: Token-by-Token Processing (docs/tutorials/streaming.md), as written."""
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

# Track tokens and words
word_count = 0
token_count = 0
current_word = ""

try:
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{
            "role": "user", 
            "content": "Explain how neural networks process information"
        }],
        stream=True,
        max_tokens=200
    )
    
    print("Processing stream in real-time...")
    print("Response: ", end="")
    
    # Process each chunk in the stream
    for chunk in stream:
        if not chunk.choices[0].delta.content:
            continue
            
        content = chunk.choices[0].delta.content
        token_count += 1
        
        # Process content character by character
        for char in content:
            # Track word boundaries
            if char.isalnum() or char == "'":
                current_word += char
            elif current_word:  # Word boundary found
                word_count += 1
                current_word = ""
                
            # Print with color highlighting based on content
            if char in ".,!?;:":  # Highlight punctuation
                sys.stdout.write(f"\033[31m{char}\033[0m")  # Red
            elif char.isupper():  # Highlight uppercase
                sys.stdout.write(f"\033[34m{char}\033[0m")  # Blue
            else:
                sys.stdout.write(char)
                
            sys.stdout.flush()
            time.sleep(0.01)
    
    # Count the last word if content ends without punctuation
    if current_word:
        word_count += 1
        
    print("\n\nStream Statistics:")
    print(f"  Tokens received: {token_count}")
    print(f"  Words counted: {word_count}")
    print(f"  Approximate words per token: {word_count/token_count:.2f}")
    
except Exception as e:
    print(f"Error: {str(e)}")
