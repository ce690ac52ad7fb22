// Print-map form (maps/templates/maps/print_map.html): show only the centre's coordinate pair the
// "centre given as" choice names; the hidden pair's inputs are disabled so they are not sent.
// Without this script both pairs are shown and the server reads the chosen one.
const form = document.getElementById("print-map-form");
const choice = form ? form.elements.namedItem("centre") : null;

function sync() {
  for (const group of form.querySelectorAll("fieldset[data-centre]")) {
    const shown = group.dataset.centre === choice.value;
    group.hidden = !shown;
    for (const input of group.querySelectorAll("input")) input.disabled = !shown;
  }
}

if (form && choice) {
  choice.addEventListener("change", sync);
  sync();
}
