"""The scripts bench_async.py runs, one fresh interpreter per contender and run.

Every script is the same prelude, one contender's body and the same report:
the clock starts after the arguments are read, ``VmHWM`` (Linux
``/proc/self/status``) is read at the first parsed response and at the end,
and the child prints one JSON line. The scripts import nothing of the
benchmarks, so any interpreter can run them.
"""

from __future__ import annotations

PRELUDE = """\
import json, sys, time
cfg = json.loads(sys.argv[1])
t0 = time.perf_counter()
def hwm():
    return [int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')][0]
botocore_version = None
"""
REPORT = """\
print(json.dumps({'first_s': first, 'rss_first_kib': rss_first, 'rss_peak_kib': hwm(),
                  'seconds': elapsed, 'calls': calls, 'errors': errors, 'version': version,
                  'botocore': botocore_version, 'python': sys.version.split()[0]}))
"""
CHILDREN = {
    "ec2codec-async": """\
import asyncio
import ec2codec
version = ec2codec.__version__
async def main():
    credentials = ec2codec.Credentials(cfg['key'], cfg['secret'])
    async with ec2codec.AsyncClient(cfg['region'], cfg['url'], credentials, environ={}) as client:
        await client.describe_import_snapshot_tasks()
        first, rss_first = time.perf_counter() - t0, hwm()
        left, errors = [cfg['calls']], [0]
        async def worker():
            while left[0] > 0:
                left[0] -= 1
                try:
                    await client.describe_import_snapshot_tasks()
                except ec2codec.Error:
                    errors[0] += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(cfg['concurrency'])))
        return first, rss_first, time.perf_counter() - started, errors[0]
first, rss_first, elapsed, errors = asyncio.run(main())
calls = cfg['calls']
""",
    "aiobotocore": """\
import asyncio
import aiobotocore, botocore
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
version, botocore_version = aiobotocore.__version__, botocore.__version__
async def main():
    config = AioConfig(max_pool_connections=cfg['concurrency'])
    async with get_session().create_client(
        'ec2', region_name=cfg['region'], endpoint_url=cfg['url'], config=config,
        aws_access_key_id=cfg['key'], aws_secret_access_key=cfg['secret'],
    ) as client:
        await client.describe_import_snapshot_tasks()
        first, rss_first = time.perf_counter() - t0, hwm()
        left, errors = [cfg['calls']], [0]
        async def worker():
            while left[0] > 0:
                left[0] -= 1
                try:
                    await client.describe_import_snapshot_tasks()
                except Exception:
                    errors[0] += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(cfg['concurrency'])))
        return first, rss_first, time.perf_counter() - started, errors[0]
first, rss_first, elapsed, errors = asyncio.run(main())
calls = cfg['calls']
""",
    "boto3-threads": """\
import boto3, botocore
from botocore.config import Config
from concurrent.futures import ThreadPoolExecutor
version, botocore_version = boto3.__version__, botocore.__version__
client = boto3.client(
    'ec2', region_name=cfg['region'], endpoint_url=cfg['url'], config=Config(max_pool_connections=cfg['concurrency']),
    aws_access_key_id=cfg['key'], aws_secret_access_key=cfg['secret'],
)
client.describe_import_snapshot_tasks()
first, rss_first = time.perf_counter() - t0, hwm()
def one(_):
    try:
        client.describe_import_snapshot_tasks()
        return 0
    except Exception:
        return 1
started = time.perf_counter()
with ThreadPoolExecutor(cfg['concurrency']) as pool:
    errors = sum(pool.map(one, range(cfg['calls'])))
elapsed = time.perf_counter() - started
calls = cfg['calls']
""",
    "ec2codec-sync": """\
import ec2codec
version = ec2codec.__version__
client = ec2codec.Client(cfg['region'], cfg['url'], ec2codec.Credentials(cfg['key'], cfg['secret']), environ={})
client.describe_import_snapshot_tasks()
first, rss_first = time.perf_counter() - t0, hwm()
elapsed, calls, errors = 0.0, 0, 0
""",
    "boto3-sync": """\
import boto3, botocore
version, botocore_version = boto3.__version__, botocore.__version__
client = boto3.client('ec2', region_name=cfg['region'], endpoint_url=cfg['url'],
                      aws_access_key_id=cfg['key'], aws_secret_access_key=cfg['secret'])
client.describe_import_snapshot_tasks()
first, rss_first = time.perf_counter() - t0, hwm()
elapsed, calls, errors = 0.0, 0, 0
""",
    # The floor: what every aiohttp client does before its first answer, and nothing else.
    "floor": """\
import asyncio
import aiohttp
version = aiohttp.__version__
async def main():
    async with aiohttp.ClientSession() as session:
        async with session.request(cfg['method'], cfg['url'], data=cfg['body'].encode(), headers=cfg['headers']) as r:
            await r.read()
            return time.perf_counter() - t0, hwm(), int(r.status != 200)
first, rss_first, errors = asyncio.run(main())
elapsed, calls = 0.0, 0
""",
}


def script(kind: str) -> str:
    """The whole program of one contender's child interpreter."""
    return PRELUDE + CHILDREN[kind] + REPORT
