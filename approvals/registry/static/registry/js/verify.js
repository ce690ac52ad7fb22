/* Public certificate verification (/certificates/verify/): the certificate's QR code opens
 * /certificates/verify/#n=<number>&c=<code>. The fragment never reaches the server (nor its logs);
 * this module reads it, drops it from the address bar and history, fills the form and posts it.
 * Text is only ever set as values or textContent. */
const form = document.getElementById("verify-form");
const hash = window.location.hash;
if (form && hash.length > 1) {
  const params = new URLSearchParams(hash.slice(1));
  const number = (params.get("n") || "").slice(0, 64);
  const code = (params.get("c") || "").slice(0, 32);
  window.history.replaceState(null, "", window.location.pathname + window.location.search);
  if (number && code) {
    form.elements.number.value = number;
    form.elements.code.value = code;
    const busy = document.getElementById("verify-busy");
    if (busy) busy.textContent = "…";
    if (typeof form.requestSubmit === "function") form.requestSubmit();
    else form.submit();
  }
}
