"""Performance Considerations for Streaming (docs/tutorials/streaming.md), as written."""
# Continues step 1 of the tutorial, whose imports it relies on:
from deepsentinel import SentinelClient, ComplianceViolationError
import os
import sys
import time

# Configure optimized settings for streaming
from deepsentinel import SentinelClient, SentinelConfig, PerformanceConfig

# Create performance-optimized config
perf_config = PerformanceConfig(
    connection_pool_size=50,  # Increase connection pool for parallel streams
    connection_timeout=10.0,  # Longer timeout for streaming connections
    read_timeout=60.0,        # Extended read timeout for long streams
    keep_alive=True,          # Keep connections alive between requests
)

config = SentinelConfig(
    sentinel_api_key=os.getenv("DEEPSENTINEL_API_KEY"),
    openai_api_key=os.getenv("OPENAI_API_KEY"),
    performance_config=perf_config
)

# Create client with optimized config
client = SentinelClient(config=config)
