/* The value tree that a caller fills for one rendering. */
#include "workflow/template-private.h"

#include <string.h>

static CqValue *
value_new(CqValueType type, const char *key)
{
    CqValue *value = g_new0(CqValue, 1);

    value->type = type;
    value->key = g_strdup(key);
    if (type == CQ_VALUE_GROUP || type == CQ_VALUE_LIST)
        value->v.children =
            g_ptr_array_new_with_free_func((GDestroyNotify)cq_value_free);
    return value;
}

CqValue *
cq_value_new(void)
{
    return value_new(CQ_VALUE_GROUP, NULL);
}

void
cq_value_free(CqValue *value)
{
    if (value == NULL)
        return;
    if (value->type == CQ_VALUE_TEXT)
        g_free(value->v.text);
    else if (value->type == CQ_VALUE_GROUP || value->type == CQ_VALUE_LIST)
        g_ptr_array_unref(value->v.children);
    g_free(value->key);
    g_free(value);
}

const CqValue *
cq_value_get(const CqValue *group, const char *key)
{
    g_return_val_if_fail(group != NULL, NULL);
    if (group->type != CQ_VALUE_GROUP)
        return NULL;
    for (guint i = 0; i < group->v.children->len; i++) {
        const CqValue *child = group->v.children->pdata[i];
        if (strcmp(child->key, key) == 0)
            return child;
    }
    return NULL;
}

CqValueType
cq_value_type(const CqValue *value)
{
    return value->type;
}

/* Puts a new value under @key, replacing what was there. */
static CqValue *
group_put(CqValue *group, const char *key, CqValueType type)
{
    g_return_val_if_fail(group != NULL && group->type == CQ_VALUE_GROUP, NULL);
    g_return_val_if_fail(key != NULL, NULL);

    CqValue *value = value_new(type, key);
    GPtrArray *children = group->v.children;
    for (guint i = 0; i < children->len; i++) {
        CqValue *old = children->pdata[i];
        if (strcmp(old->key, key) == 0) {
            children->pdata[i] = value;
            cq_value_free(old);
            return value;
        }
    }
    g_ptr_array_add(children, value);
    return value;
}

void
cq_value_set_text(CqValue *group, const char *key, const char *text)
{
    if (text == NULL)
        return;
    CqValue *value = group_put(group, key, CQ_VALUE_TEXT);
    if (value != NULL)
        value->v.text = g_strdup(text);
}

void
cq_value_set_number(CqValue *group, const char *key, gint64 number)
{
    CqValue *value = group_put(group, key, CQ_VALUE_NUMBER);
    if (value != NULL)
        value->v.number = number;
}

void
cq_value_set_flag(CqValue *group, const char *key, gboolean flag)
{
    CqValue *value = group_put(group, key, CQ_VALUE_FLAG);
    if (value != NULL)
        value->v.flag = flag;
}

void
cq_value_set_date(CqValue *group, const char *key, CqDay day)
{
    CqValue *value = group_put(group, key, CQ_VALUE_DATE);
    if (value != NULL)
        value->v.day = day;
}

CqValue *
cq_value_set_group(CqValue *group, const char *key)
{
    return group_put(group, key, CQ_VALUE_GROUP);
}

CqValue *
cq_value_set_list(CqValue *group, const char *key)
{
    return group_put(group, key, CQ_VALUE_LIST);
}

CqValue *
cq_value_list_append(CqValue *list)
{
    g_return_val_if_fail(list != NULL && list->type == CQ_VALUE_LIST, NULL);

    CqValue *item = value_new(CQ_VALUE_GROUP, NULL);
    g_ptr_array_add(list->v.children, item);
    return item;
}
