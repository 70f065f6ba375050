import multiprocessing as mp
import sys

def child(q):
    q.put(('child', sys.argv[0].endswith('mp_fork.py')))

if __name__ == '__main__':
    ctx = mp.get_context('fork')
    q = ctx.Queue()
    p = ctx.Process(target=child, args=(q,))
    p.start()
    print(q.get())
    p.join()
    print('exit code', p.exitcode)
