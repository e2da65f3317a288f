"""A second client of the kernel behind a page: asks it for values the test compares.

The page and the test see the same kernel: the browser through the server's
websocket, the test through the kernel's own ZMQ ports, read from its connection
file in the server's temporary runtime dir. So a test can compare what the browser
received (a downloaded file, a shown value) with what the kernel-side API gives,
in the very kernel that served the page, in any front-end.
"""

import ast
import json
import queue
import time

from jupyter_client import BlockingKernelClient


class KernelError(AssertionError):
    """Code run by a `KernelProbe` raised in the kernel."""


class KernelProbe:
    """Runs code silently in a running kernel and returns a JSON value from it.

    Silent execution neither shows in the notebook nor counts in its history.

    Example:
        probe = KernelProbe(server.connection_files()[kernel_id])
        weights = probe.value("dash.weights")
        probe.close()

    Args:
        connection_file: the kernel's connection file.
        timeout: seconds to wait for the kernel to answer at all.
    """

    def __init__(self, connection_file, timeout=30.0):
        self.client = BlockingKernelClient()
        self.client.load_connection_file(str(connection_file))
        self.client.start_channels()
        self.client.wait_for_ready(timeout=timeout)

    def value(self, expression, setup="", timeout=60.0):
        """Runs `setup`, then returns `expression` evaluated in the kernel, through JSON.

        Args:
            expression: a Python expression whose value JSON can encode.
            setup: statements run first (imports, a file written...).
            timeout: seconds.

        Returns:
            The decoded value.

        Raises:
            KernelError: `setup` or `expression` raised (the kernel's message).
            TimeoutError: no reply in time.
        """
        msg_id = self.client.execute(
            setup,
            silent=True,
            store_history=False,
            user_expressions={"value": f"__import__('json').dumps({expression})"},
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                reply = self.client.get_shell_msg(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"the kernel did not answer within {timeout:.0f} s") from None
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        content = reply["content"]
        if content["status"] != "ok":
            raise KernelError(f"{content.get('ename')}: {content.get('evalue')}")
        result = content["user_expressions"]["value"]
        if result["status"] != "ok":
            raise KernelError(f"{expression}: {result.get('ename')}: {result.get('evalue')}")
        return json.loads(ast.literal_eval(result["data"]["text/plain"]))

    def close(self):
        """Closes the channels (the kernel keeps running)."""
        self.client.stop_channels()
