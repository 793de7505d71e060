/** The 11 Food-11 classes in the model's output order (the class index of Food-11's file names). */
export const FOOD11_LABELS: readonly string[] = [
  "Bread",
  "Dairy product",
  "Dessert",
  "Egg",
  "Fried food",
  "Meat",
  "Noodles/Pasta",
  "Rice",
  "Seafood",
  "Soup",
  "Vegetable/Fruit",
];

/** Compare label names loosely: case, spaces, "/", "-", "_" do not matter. */
export function labelKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, "");
}
