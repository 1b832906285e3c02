"""Step 7: Error Handling for Streams (docs/tutorials/streaming.md), as written."""

from deepsentinel import (
    SentinelClient, 
    ComplianceViolationError,
    ProviderError,
    RateLimitError
)
import os
import time

# Initialize the client
client = SentinelClient(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY")
)

def stream_with_error_handling(messages, model="gpt-4o", **kwargs):
    """Stream a response with comprehensive error handling."""
    try:
        stream = client.chat.completions.create(
            model=model,
            messages=messages,
            stream=True,
            **kwargs
        )
        
        print("Response: ", end="")
        response_text = ""
        
        for chunk in stream:
            if chunk.choices[0].delta.content is not None:
                content = chunk.choices[0].delta.content
                print(content, end="", flush=True)
                response_text += content
                time.sleep(0.01)
                
        print("\n")
        return {"success": True, "content": response_text}
        
    except ComplianceViolationError as e:
        print(f"\nCompliance violation: {e.message}")
        return {
            "success": False, 
            "error_type": "compliance",
            "message": e.message,
            "violations": [v.type for v in e.violations]
        }
        
    except RateLimitError as e:
        print(f"\nRate limit exceeded. Retry after {e.retry_after} seconds.")
        return {
            "success": False,
            "error_type": "rate_limit",
            "retry_after": e.retry_after
        }
        
    except ProviderError as e:
        print(f"\nProvider error ({e.provider}): {e.message}")
        return {
            "success": False,
            "error_type": "provider",
            "provider": e.provider,
            "message": e.message
        }
        
    except Exception as e:
        print(f"\nUnexpected error: {str(e)}")
        return {
            "success": False,
            "error_type": "unknown",
            "message": str(e)
        }

# Test error handling with different cases
test_cases = [
    # Normal case
    [{"role": "user", "content": "Hello, how are you?"}],
    
    # Potentially triggering compliance
    [{"role": "user", "content": "My credit card is 4111-1111-1111-1111"}],
    
    # Invalid model (will cause provider error)
    [{"role": "user", "content": "Hello"}], 
]

for i, messages in enumerate(test_cases):
    print(f"\nTest case {i+1}:")
    
    # For the last test, use an invalid model
    model = "non-existent-model" if i == 2 else "gpt-4o"
    
    result = stream_with_error_handling(messages, model=model)
    
    if result["success"]:
        print(f"Success! Generated {len(result['content'])} characters")
    else:
        print(f"Failed with {result['error_type']} error: {result.get('message', '')}")
