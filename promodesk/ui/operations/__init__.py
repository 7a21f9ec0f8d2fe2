"""Every vendor operation from the window, generated from the operation tables
(services/operations): one form builder (`form`), a few special editors (`editors`,
`structured`), one dialog that runs any operation (`dialog`), the actions, menus and context
menus of a panel (`actions`), and bulk work on many rows (`bulk`)."""
