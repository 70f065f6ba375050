import sys
def hook(kind, value, tb):
    print('hook:', kind.__name__, value, tb.tb_frame.f_code.co_filename.endswith('excepthook.py'), tb.tb_next is None)
sys.excepthook = hook
raise RuntimeError('to the hook')
