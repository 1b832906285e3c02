"""Step 8: Complete Implementation Example (docs/tutorials/streaming.md), as written."""

import os
import sys
import time
from typing import List, Dict, Optional, Any
from deepsentinel import SentinelClient, ComplianceViolationError

class StreamingChatApp:
    """Interactive streaming chat application with DeepSentinel."""
    
    def __init__(self, api_keys: Dict[str, str], model: str = "gpt-4o"):
        """Initialize the chat application.
        
        Args:
            api_keys: Dictionary with sentinel_api_key and provider keys
            model: Default model to use
        """
        self.client = SentinelClient(**api_keys)
        self.model = model
        self.conversation = [
            {"role": "system", "content": "You are a helpful assistant."}
        ]
        self.token_count = 0
        self.response_time = 0
    
    def chat(self, message: str) -> Dict[str, Any]:
        """Send a message and stream the response.
        
        Args:
            message: User message to send
            
        Returns:
            Dictionary with results
        """
        # Add user message to history
        self.conversation.append({"role": "user", "content": message})
        
        try:
            # Start timing
            start_time = time.time()
            
            # Create streaming request
            stream = self.client.chat.completions.create(
                model=self.model,
                messages=self.conversation,
                stream=True,
                temperature=0.7
            )
            
            # Process stream
            print("Assistant: ", end="")
            response_content = ""
            tokens = 0
            
            for chunk in stream:
                if chunk.choices[0].delta.content is not None:
                    content = chunk.choices[0].delta.content
                    print(content, end="", flush=True)
                    response_content += content
                    tokens += 1
                    time.sleep(0.01)
            
            # Record metrics
            self.response_time = time.time() - start_time
            self.token_count += tokens
            
            # Add response to conversation history
            self.conversation.append({
                "role": "assistant",
                "content": response_content
            })
            
            return {
                "success": True,
                "content": response_content,
                "tokens": tokens,
                "response_time": self.response_time
            }
            
        except ComplianceViolationError as e:
            print(f"\nCompliance violation: {e.message}")
            return {
                "success": False,
                "error": "compliance_violation",
                "message": e.message
            }
            
        except Exception as e:
            print(f"\nError: {str(e)}")
            return {
                "success": False,
                "error": "general_error",
                "message": str(e)
            }
    
    def display_stats(self):
        """Display chat statistics."""
        messages = len(self.conversation) - 1  # Exclude system message
        user_messages = messages // 2
        
        print("\n----- Chat Statistics -----")
        print(f"Messages exchanged: {user_messages} user, {user_messages} assistant")
        print(f"Approximate tokens: {self.token_count}")
        print(f"Last response time: {self.response_time:.2f} seconds")
    
    def reset(self):
        """Reset the conversation."""
        self.conversation = [self.conversation[0]]  # Keep system message
        self.token_count = 0
        print("Conversation has been reset.")

def main():
    """Run the streaming chat application."""
    # Get API keys from environment
    api_keys = {
        "sentinel_api_key": os.getenv("DEEPSENTINEL_API_KEY"),
        "openai_api_key": os.getenv("OPENAI_API_KEY")
    }
    
    # Initialize chat app
    app = StreamingChatApp(api_keys)
    
    print("🚀 DeepSentinel Streaming Chat")
    print("=" * 40)
    print("Type your messages and receive streaming responses.")
    print("Commands: /stats - Show statistics, /reset - Reset conversation, /exit - Exit")
    
    while True:
        # Get user input
        user_input = input("\nYou: ").strip()
        
        # Handle commands
        if user_input.lower() in ["/exit", "/quit"]:
            print("Goodbye!")
            break
            
        elif user_input.lower() == "/stats":
            app.display_stats()
            continue
            
        elif user_input.lower() == "/reset":
            app.reset()
            continue
        
        # Process regular messages
        if user_input:
            result = app.chat(user_input)
            print()  # Add newline after response

if __name__ == "__main__":
    main()
