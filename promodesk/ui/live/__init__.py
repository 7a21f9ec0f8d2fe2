"""Live vendor work in the window: which source each panel shows (`sources`), the accounts,
online or offline, and every call to a vendor as a job (`session`), and how the window gets
it (`install`)."""
