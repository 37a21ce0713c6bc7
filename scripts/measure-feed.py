#!/usr/bin/env python3
"""Measures the live feed of a release build: server memory idle and with N idle authenticated
WebSockets, and the time from a delta leaving a (fake) provider to its arrival at the client,
with M replies streaming at once.

    pip install websockets aiohttp
    python3 scripts/measure-feed.py --sockets 10000 --streams 100

The fake provider speaks OpenAI's streaming format on loopback and puts its send time in each
delta, so the latency is measured on one clock. Stopgap until the benchmark tool of the
benchmarks issue replaces it.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import tempfile
import time

import aiohttp
import websockets
from aiohttp import web

SERVER = os.environ.get("SERVER_BIN", os.path.expanduser("~/.cache/rustchat/target/release/server"))


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


async def fake_openai(request, deltas, pace):
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)

    def chunk(delta, finish=None):
        body = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        return f"data: {json.dumps(body)}\n\n".encode()

    for _ in range(deltas):
        await asyncio.sleep(pace)
        await response.write(chunk({"content": f"{time.time_ns()}|"}))
    await response.write(chunk({}, "stop"))
    usage = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o", "choices": [],
             "usage": {"prompt_tokens": 10, "completion_tokens": deltas, "total_tokens": 10 + deltas}}
    await response.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
    return response


async def main(args):
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    app = web.Application()
    app.router.add_post("/v1/chat/completions", lambda r: fake_openai(r, args.deltas, args.pace))
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    upstream_port = site._server.sockets[0].getsockname()[1]

    data = tempfile.mkdtemp()
    env = dict(os.environ, DATA_DIR=data, LEPTOS_SITE_ADDR="127.0.0.1:3999", RUST_LOG="warn",
               OPENAI_API_KEY="k", OPENAI_BASE_URL=f"http://127.0.0.1:{upstream_port}/v1")
    server = subprocess.Popen([SERVER], env=env)
    base = "http://127.0.0.1:3999"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{base}/login") as r:
                        if r.status == 200:
                            break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with http.post(f"{base}/api/auth/register",
                                 json={"email": "bench@example.com", "password": "correct horse battery"}) as r:
                token = (await r.json())["token"]
            auth = {"Authorization": f"Bearer {token}"}
            await asyncio.sleep(1)
            print(f"server RSS idle: {rss_mb(server.pid):.1f} MB")

            ws_url = f"ws://127.0.0.1:3999/ws?token={token}"
            sockets = []
            for i in range(0, args.sockets, 500):
                batch = await asyncio.gather(*[websockets.connect(ws_url, max_queue=None)
                                               for _ in range(min(500, args.sockets - i))])
                sockets.extend(batch)
            await asyncio.sleep(2)
            print(f"server RSS with {len(sockets)} idle authenticated sockets: {rss_mb(server.pid):.1f} MB")
            await asyncio.gather(*[s.close() for s in sockets])

            conversations = []
            for _ in range(args.streams):
                async with http.post(f"{base}/api/conversations", headers=auth,
                                     json={"provider": "openai", "model": "gpt-4o"}) as r:
                    conversations.append((await r.json())["id"])
            latencies = []
            peak = [0.0]

            async def watch(conversation_id, ready):
                async with websockets.connect(ws_url, max_queue=None) as ws:
                    await ws.send(json.dumps({"type": "subscribe", "conversation_id": conversation_id}))
                    ready.set()
                    while True:
                        frame = json.loads(await ws.recv())
                        if frame.get("type") == "message.streaming":
                            now = time.time_ns()
                            sent = int(frame["data"]["delta"].rstrip("|"))
                            latencies.append((now - sent) / 1e6)
                        if frame.get("type") == "message.updated" and frame["data"]["role"] == "assistant":
                            return

            readies = [asyncio.Event() for _ in conversations]
            watchers = [asyncio.create_task(watch(c, e)) for c, e in zip(conversations, readies)]
            await asyncio.gather(*[e.wait() for e in readies])
            await asyncio.sleep(0.5)

            async def sample():
                while True:
                    peak[0] = max(peak[0], rss_mb(server.pid))
                    await asyncio.sleep(0.1)

            sampler = asyncio.create_task(sample())
            started = time.time()
            await asyncio.gather(*[http.post(f"{base}/api/conversations/{c}/messages", headers=auth,
                                             json={"content": "go"}) for c in conversations])
            await asyncio.gather(*watchers)
            sampler.cancel()
            elapsed = time.time() - started
            latencies.sort()
            q = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p))]
            print(f"{args.streams} concurrent streams x {args.deltas} deltas every {args.pace * 1000:.0f} ms: "
                  f"{len(latencies)} deltas in {elapsed:.1f} s; provider-to-client latency "
                  f"p50 {q(0.5):.2f} ms, p99 {q(0.99):.2f} ms, max {latencies[-1]:.2f} ms; "
                  f"peak RSS {peak[0]:.1f} MB")
    finally:
        server.terminate()
        server.wait()
        await runner.cleanup()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--deltas", type=int, default=200)
    parser.add_argument("--pace", type=float, default=0.02)
    asyncio.run(main(parser.parse_args()))
