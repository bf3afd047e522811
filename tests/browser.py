"""A real Chromium (Debian's chromium and chromium-driver) driven by Selenium, headless, with a
profile directory of its own that tests can scan once the browser is closed."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

__all__ = ["Browser"]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# The closed network refuses Chromium's own background connections; these keep it quiet.
_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1300,1000",
)


class Browser:
    def __init__(self, base: str, profile: Path | None = None) -> None:
        self.base = base
        self.profile = profile or Path(tempfile.mkdtemp(prefix="chromium-"))
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in _FLAGS:
            options.add_argument(flag)
        options.add_argument(f"--user-data-dir={self.profile}")
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(30)

    def close(self) -> None:
        self.driver.quit()

    # -- finding and waiting
    def wait(self, condition: Callable[[], Any], timeout: float = 10, what: str = "") -> Any:
        try:
            # The console redraws a page after each action: an element found a moment ago may
            # be gone, which is worth another look, not a failure.
            return WebDriverWait(
                self.driver,
                timeout,
                poll_frequency=0.1,
                ignored_exceptions=(StaleElementReferenceException,),
            ).until(lambda _driver: condition())
        except TimeoutException:
            text = self.main_text()
            raise AssertionError(f"timed out waiting for {what}; the page says:\n{text}") from None

    def main_text(self) -> str:
        try:
            return str(self.driver.find_element(By.ID, "main").text)
        except Exception:
            return str(self.driver.page_source[:2000])

    def wait_text(self, text: str, timeout: float = 10) -> None:
        self.wait(lambda: text in self.main_text(), timeout, repr(text))

    def _first(self, find: Callable[[], list[WebElement]], what: str) -> WebElement:
        return cast(WebElement, self.wait(lambda: next(iter(find()), None), what=what))

    def css(self, selector: str) -> WebElement:
        return self._first(lambda: self.driver.find_elements(By.CSS_SELECTOR, selector), selector)

    def button(self, label: str, within: WebElement | None = None) -> WebElement:
        xpath = f".//button[normalize-space()={_xpath_string(label)}]"
        root = within or self.driver
        return self._first(lambda: root.find_elements(By.XPATH, xpath), f"button {label!r}")

    def row(self, first_cell: str) -> WebElement:
        """The table row whose first cell reads ``first_cell``."""
        xpath = f"//tr[td[1][normalize-space()={_xpath_string(first_cell)}]]"
        return self._first(
            lambda: self.driver.find_elements(By.XPATH, xpath), f"row {first_cell!r}"
        )

    def fill(self, selector: str, value: str) -> None:
        field = self.css(selector)
        field.clear()
        field.send_keys(value)

    # -- moving around
    def open(self, path: str = "/ui/") -> None:
        self.driver.get(self.base + path)

    def go(self, *segments: str) -> None:
        """Follow a console route, as a click on a link would."""
        from urllib.parse import quote

        target = "#/" + "/".join(quote(s, safe="") for s in segments)
        self.driver.execute_script("location.hash = arguments[0]", target)

    def login_token(self, token: str) -> None:
        self.open()
        self.fill("#login-token", token)
        self.button("Log in with token").click()
        self.wait(lambda: not self.driver.find_element(By.ID, "nav").get_attribute("hidden"))

    def login_password(self, username: str, password: str) -> None:
        self.open()
        self.fill("#login-username", username)
        self.fill("#login-password", password)
        self.button("Log in").click()
        self.wait(lambda: not self.driver.find_element(By.ID, "nav").get_attribute("hidden"))

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def console_errors(self) -> list[str]:
        logs = self.driver.get_log("browser")  # type: ignore[no-untyped-call]
        return [str(entry["message"]) for entry in logs]


def _xpath_string(text: str) -> str:
    return f'"{text}"' if '"' not in text else f"'{text}'"
