/** The observation the Infer and Compare views are about, shared between them. */
class Selection {
  #observationId = $state<number | undefined>();
  get observationId() {
    return this.#observationId;
  }
  set observationId(id: number | undefined) {
    this.#observationId = id;
  }
}

export const selection = new Selection();
