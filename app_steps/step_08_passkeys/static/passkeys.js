// Stage 8: the browser's half of passkeys. Loaded from this site ('self' in the CSP), never inline.
// The server sends options as JSON (py_webauthn's options_to_json); the browser's own
// PublicKeyCredential.parse...FromJSON() and credential.toJSON() turn them into what
// navigator.credentials takes and back, so no base64url code is needed here.
"use strict";

(function () {
  const token = document.querySelector('meta[name="csrf-token"]');
  const supported = typeof window.PublicKeyCredential === "function"
    && typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function"
    && typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.content : ""},
      body: JSON.stringify(body || {}),
    });
    let answer = {};
    try {
      answer = await response.json();
    } catch (ignored) {
      // not JSON: the status says enough
    }
    if (!response.ok) {
      throw new Error(answer.error || `The server answered ${response.status}.`);
    }
    return answer;
  }

  function explain(error) {
    switch (error.name) {
      case "NotAllowedError":
        return "Cancelled, or there is no passkey for this site on this device.";
      case "InvalidStateError":
        return "This device already holds a passkey for your account.";
      case "SecurityError":
        return "The browser refused: passkeys work only at this site's own address (http://localhost, not 127.0.0.1).";
      default:
        return error.message;
    }
  }

  function show(element, text) {
    element.textContent = text;
  }

  const login = document.getElementById("passkey-login");
  if (login && supported) {
    login.hidden = false;
    const message = document.getElementById("passkey-login-message");
    document.getElementById("passkey-login-button").addEventListener("click", async () => {
      show(message, "");
      try {
        const options = await post(login.dataset.optionsUrl);
        const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(options);
        const credential = await navigator.credentials.get({publicKey});
        const answer = await post(login.dataset.verifyUrl, {credential: credential.toJSON()});
        window.location.assign(answer.redirect);
      } catch (error) {
        show(message, explain(error));
      }
    });
  }

  const add = document.getElementById("passkey-add");
  if (add) {
    const message = document.getElementById("passkey-add-message");
    const button = document.getElementById("passkey-add-button");
    if (!supported) {
      button.disabled = true;
      show(message, "This browser cannot make passkeys here: use a current Chrome, Edge, Firefox or Safari.");
    }
    button.addEventListener("click", async () => {
      show(message, "");
      try {
        const options = await post(add.dataset.optionsUrl);
        const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(options);
        const credential = await navigator.credentials.create({publicKey});
        const nickname = document.getElementById("passkey-nickname").value;
        await post(add.dataset.verifyUrl, {credential: credential.toJSON(), nickname});
        window.location.reload();
      } catch (error) {
        show(message, explain(error));
      }
    });
  }
}());
