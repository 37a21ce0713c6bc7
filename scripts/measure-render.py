#!/usr/bin/env python3
"""Server time to render the chat page of a conversation with 1,000 messages (500 demo
prompts and replies, each reply with a highlighted code block), first and repeated renders.

    pip install aiohttp
    python3 scripts/measure-render.py
"""

import asyncio
import os
import statistics
import subprocess
import tempfile
import time

import aiohttp

SERVER = os.environ.get("SERVER_BIN", os.path.expanduser("~/.cache/rustchat/target/release/server"))
BASE = "http://127.0.0.1:3998"


async def main():
    env = dict(os.environ, DATA_DIR=tempfile.mkdtemp(), LEPTOS_SITE_ADDR="127.0.0.1:3998",
               RUST_LOG="warn", DEMO_WORD_DELAY="0ms")
    server = subprocess.Popen([SERVER], env=env)
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(100):
                try:
                    async with http.get(f"{BASE}/login"):
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.1)
            async with http.post(f"{BASE}/api/auth/register",
                                 json={"email": "render@example.com", "password": "correct horse battery"}) as r:
                token = (await r.json())["token"]
            auth = {"Authorization": f"Bearer {token}"}
            async with http.post(f"{BASE}/api/conversations", headers=auth, json={}) as r:
                conversation = (await r.json())["id"]
            for i in range(500):
                async with http.post(f"{BASE}/api/conversations/{conversation}/messages", headers=auth,
                                     json={"content": f"question number {i}"}) as r:
                    assert r.status == 202, await r.text()
            while True:
                async with http.get(f"{BASE}/api/conversations/{conversation}/messages?limit=1000",
                                    headers=auth) as r:
                    items = (await r.json())["items"]
                if len(items) == 1000 and all(m["status"] != "streaming" for m in items):
                    break
                await asyncio.sleep(0.2)
            cookies = {"rustchat_session": token}
            timings = []
            for _ in range(6):
                started = time.perf_counter()
                async with http.get(f"{BASE}/c/{conversation}", cookies=cookies) as r:
                    body = await r.read()
                    assert r.status == 200
                timings.append((time.perf_counter() - started) * 1000)
            print(f"page of 1,000 messages ({len(body) / 1024:.0f} KiB of HTML): first render "
                  f"{timings[0]:.0f} ms, then median {statistics.median(timings[1:]):.0f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    asyncio.run(main())
