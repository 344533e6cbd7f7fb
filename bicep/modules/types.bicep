// Types the templates share (the linter's use-user-defined-types: no bare `object` or `array`).

@export()
@description('Resource tags: names to values.')
type resourceTags = {
  *: string
}
