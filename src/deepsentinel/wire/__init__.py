"""The wire guard: compliance on request and response bodies and server-sent events, per API format. Sans-IO."""
