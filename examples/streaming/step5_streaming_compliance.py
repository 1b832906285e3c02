"""Step 5: Compliance Checking with Streaming (docs/tutorials/streaming.md), as written."""

from deepsentinel import SentinelClient, ComplianceViolationError, CompliancePolicy
import os
import time

# Create a strict compliance policy
strict_policy = CompliancePolicy(
    name="strict-streaming-policy",
    description="Strict policy for streaming responses",
    enable_pii_detection=True,
    enable_pci_detection=True,
    max_risk_score=0.6,  # Lower threshold than default
    block_on_violation=True
)

# Initialize client with the strict policy
client = SentinelClient(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY"),
    compliance_policies=[strict_policy]
)

def test_streaming_compliance():
    """Test how compliance checking works with streaming."""
    print("Testing streaming compliance checks...")
    
    # Example 1: Safe content
    print("\n1. Testing with safe content...")
    try:
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=[{
                "role": "user",
                "content": "Write a short poem about mountains"
            }],
            stream=True
        )
        
        print("Response: ", end="")
        for chunk in stream:
            if chunk.choices[0].delta.content is not None:
                content = chunk.choices[0].delta.content
                print(content, end="", flush=True)
                time.sleep(0.01)
                
        print("\n✅ Safe content successfully streamed")
        
    except ComplianceViolationError as e:
        print(f"\n❌ Unexpected compliance violation: {e.message}")
    except Exception as e:
        print(f"\n❌ Error: {str(e)}")
    
    # Example 2: Content with PII
    print("\n2. Testing with sensitive content...")
    try:
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=[{
                "role": "user",
                "content": "My social security number is 123-45-6789"
            }],
            stream=True
        )
        
        print("Response: ", end="")
        for chunk in stream:
            if chunk.choices[0].delta.content is not None:
                content = chunk.choices[0].delta.content
                print(content, end="", flush=True)
                time.sleep(0.01)
                
        print("\n⚠️ Sensitive content was not blocked (unexpected)")
        
    except ComplianceViolationError as e:
        print(f"\n✅ Compliance violation correctly detected: {e.message}")
        print(f"Violation types: {[v.type for v in e.violations]}")
    except Exception as e:
        print(f"\n❌ Error: {str(e)}")

# Run the compliance test
test_streaming_compliance()
