import multiprocessing as mp

def square(x):
    return x * x

if __name__ == '__main__':
    ctx = mp.get_context('spawn')
    with ctx.Pool(2) as pool:
        print(pool.map(square, range(5)))
    p = ctx.Process(target=print, args=('from a spawned process',))
    p.start()
    p.join()
    print('exit code', p.exitcode)
