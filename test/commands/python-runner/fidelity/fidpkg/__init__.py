print('package init')
