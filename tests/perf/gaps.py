#!/usr/bin/env python3
"""Host side of tests/perf/gaps.sh: where did the time between posts go?

usage: tests/perf/gaps.py TRACE [N]

Reads the ftrace text of one traced latency run, takes the gaps between
consecutive post_send calls (rxe_post_send: both processes, stock or
ours), prints how many fall in each size class, how many of the long
ones (>= 5 ms) ended after one of our works ran (rxe_qp_work), the
number of works and timer expiries, and the trace lines of the N longest
gaps (default 2).
"""
import re
import sys

STAMP = re.compile(r'\s(\d+\.\d+):\s')


def main():
    path = sys.argv[1]
    show = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    ev = []
    with open(path) as f:
        for line in f:
            if line.startswith('#'):
                continue
            m = STAMP.search(line)
            if m:
                ev.append((float(m.group(1)), line.rstrip('\n')))
    posts = [i for i, (_, l) in enumerate(ev) if 'rxe_post_send' in l]
    if len(posts) < 2:
        sys.exit('fewer than two posts in ' + path)
    classes = {'<1ms': 0, '1-5ms': 0, '5-100ms': 0, '>=100ms': 0}
    gaps = []
    rescued = 0
    for a, b in zip(posts, posts[1:]):
        d = ev[b][0] - ev[a][0]
        k = ('<1ms' if d < 0.001 else '1-5ms' if d < 0.005 else
             '5-100ms' if d < 0.1 else '>=100ms')
        classes[k] += 1
        gaps.append((d, a, b))
        if d >= 0.005 and any('rxe_qp_work' in l for _, l in ev[a:b]):
            rescued += 1
    span = ev[posts[-1]][0] - ev[posts[0]][0]
    print('%d posts over %.2f s; gaps: %s' % (len(posts), span, classes))
    print('gaps >= 5 ms that ended after a work ran: %d' % rescued)
    print('works run: %d, retry timer expiries: %d' % (
        sum('rxe_qp_work' in l for _, l in ev),
        sum('rxe_retry_timer_fn' in l for _, l in ev)))
    for d, a, b in sorted(gaps, reverse=True)[:show]:
        print('==== gap of %.1f ms' % (d * 1000))
        for _, l in ev[a:b + 1][:80]:
            print(l[:200])


if __name__ == '__main__':
    main()
