"""Live feeds: supervised venue connections, the subscription registry and recovery. No Qt imports;
runs under plain asyncio and under qasync."""
