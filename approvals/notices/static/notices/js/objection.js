// The objection form: characters used under the text, and one submission per press (a second
// press while the first is on its way would lodge the objection twice). Text nodes only.
const form = document.getElementById("objection-form");
const text = document.getElementById("id_text");
const count = document.getElementById("objection-count");

function update() {
  const max = Number(count.dataset.max || 0);
  count.textContent = `${text.value.length} / ${max}`;
}

if (form && text && count) {
  text.addEventListener("input", update);
  update();
  form.addEventListener("submit", () => {
    const button = document.getElementById("objection-submit");
    if (button) {
      // after this event: disabling at once would drop the button from the posted form
      setTimeout(() => { button.disabled = true; }, 0);
    }
  });
}
