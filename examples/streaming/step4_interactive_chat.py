"""Step 4: Building an Interactive Chat Interface (docs/tutorials/streaming.md), as written."""

from deepsentinel import SentinelClient, ComplianceViolationError
import os
import time

# Initialize the client
client = SentinelClient(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY")
)

# Initialize conversation history
conversation = [
    {"role": "system", "content": "You are a helpful assistant."}
]

print("Interactive Streaming Chat")
print("Type your messages and receive streaming responses.")
print("Type 'exit' or 'quit' to end the conversation.")

while True:
    # Get user input
    user_input = input("\nYou: ")
    if user_input.lower() in ["exit", "quit", "bye"]:
        print("Goodbye!")
        break
    
    # Add user message to conversation
    conversation.append({"role": "user", "content": user_input})
    
    try:
        # Start streaming response
        print("Assistant: ", end="")
        
        stream = client.chat.completions.create(
            model="gpt-4o",
            messages=conversation,
            stream=True,
            temperature=0.7
        )
        
        # Collect assistant's response
        assistant_response = ""
        
        # Process the stream
        for chunk in stream:
            if chunk.choices[0].delta.content is not None:
                content = chunk.choices[0].delta.content
                print(content, end="", flush=True)
                assistant_response += content
                time.sleep(0.01)
        
        # Add assistant response to conversation history
        conversation.append({
            "role": "assistant",
            "content": assistant_response
        })
        
    except ComplianceViolationError as e:
        print(f"\nCompliance violation: {e.message}")
        print(f"Please avoid sending sensitive information.")
    except Exception as e:
        print(f"\nError: {str(e)}")
