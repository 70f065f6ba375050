import threading, time
def late():
    time.sleep(0.3)
    print('thread outlived main', flush=False)
threading.Thread(target=late).start()
print('main returns')
